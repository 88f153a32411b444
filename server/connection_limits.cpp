#include "connection_limits.hpp"

namespace p2pcdn::server {

ConnectionTicket& ConnectionTicket::operator=(ConnectionTicket&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    ip_ = std::move(other.ip_);
  }
  return *this;
}

ConnectionTicket::~ConnectionTicket() {
  release();
}

void ConnectionTicket::release() {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->release(ip_);
}

bool ConnectionLimits::admit(const std::string& ip, ConnectionTicket& ticket, Rejection& why) {
  if (total_ >= max_total_) {
    why = Rejection::kServerFull;
  } else if (per_ip_[ip] >= max_per_ip_) {
    why = Rejection::kTooManyFromIp;
  } else {
    ++total_;
    ++per_ip_[ip];
    ++metrics_.connections_accepted;
    metrics_.connections_open = total_;
    ticket = ConnectionTicket(this, ip);
    return true;
  }
  if (per_ip_[ip] == 0) per_ip_.erase(ip);
  metrics_.reject(why);
  return false;
}

void ConnectionLimits::release(const std::string& ip) {
  --total_;
  metrics_.connections_open = total_;
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

}  // namespace p2pcdn::server
