// Counts open TCP connections, in total and per client address, and hands out tickets that
// give their place back when the connection ends, however it ends.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "metrics.hpp"

namespace p2pcdn::server {

class ConnectionLimits;

class ConnectionTicket {
 public:
  ConnectionTicket() = default;
  ConnectionTicket(ConnectionLimits* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
  ConnectionTicket(ConnectionTicket&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), ip_(std::move(other.ip_)) {}
  ConnectionTicket& operator=(ConnectionTicket&& other) noexcept;
  ConnectionTicket(const ConnectionTicket&) = delete;
  ConnectionTicket& operator=(const ConnectionTicket&) = delete;
  ~ConnectionTicket();

  const std::string& ip() const { return ip_; }

 private:
  void release();
  ConnectionLimits* owner_ = nullptr;
  std::string ip_;
};

class ConnectionLimits {
 public:
  ConnectionLimits(uint32_t max_total, uint32_t max_per_ip, Metrics& metrics)
      : max_total_(max_total), max_per_ip_(max_per_ip), metrics_(metrics) {}

  // A ticket, or nothing (and the rejection counted) when a limit is reached.
  bool admit(const std::string& ip, ConnectionTicket& ticket, Rejection& why);
  uint64_t open() const { return total_; }

 private:
  friend class ConnectionTicket;
  void release(const std::string& ip);

  uint32_t max_total_;
  uint32_t max_per_ip_;
  Metrics& metrics_;
  uint64_t total_ = 0;
  std::unordered_map<std::string, uint32_t> per_ip_;
};

}  // namespace p2pcdn::server
