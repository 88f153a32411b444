// What every connection of one server shares. All of it is touched only from the server's
// single I/O thread.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>

#include "connection_limits.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "server_config.hpp"
#include "signal_hub.hpp"

namespace p2pcdn::server {

struct ServerContext {
  const ServerConfig& config;
  Metrics& metrics;
  const Logger& log;
  SignalHub& hub;
  ConnectionLimits& limits;
  boost::asio::ssl::context* tls = nullptr;  // set when --cert/--key are given
  std::function<uint64_t()> now_ms;
  bool shutting_down = false;
};

// Takes an accepted connection: detects TLS, serves HTTP on it, upgrades /signal to a
// signaling WebSocket. The ticket holds the connection's place in the limits until it ends.
void start_session(boost::asio::ip::tcp::socket socket, ServerContext& context,
                   ConnectionTicket ticket);

}  // namespace p2pcdn::server
