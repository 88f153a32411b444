// What every connection of one server shares. All of it is touched only from the server's
// single I/O thread.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <vector>

#include "connection_limits.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "server_config.hpp"
#include "signal_hub.hpp"

namespace p2pcdn::server {

// Sockets bound to the io_context's own executor type: 8 bytes in each socket and pending
// operation, where the type-erased any_io_executor takes 56.
using Socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// One read buffer for every plain WebSocket: each reads into it only when the socket has
// data, and keeps for itself only the part of a message still incomplete.
inline constexpr size_t kSharedReceiveBufferSize = 64 * 1024;

struct ServerContext {
  const ServerConfig& config;
  Metrics& metrics;
  const Logger& log;
  SignalHub& hub;
  ConnectionLimits& limits;
  boost::asio::ssl::context* tls = nullptr;  // set when --cert/--key are given
  std::function<uint64_t()> now_ms;
  bool shutting_down = false;
  std::vector<uint8_t> receive_buffer = std::vector<uint8_t>(kSharedReceiveBufferSize);
};

// Takes an accepted connection: detects TLS, serves HTTP on it, upgrades /signal to a
// signaling WebSocket. The ticket holds the connection's place in the limits until it ends.
void start_session(Socket socket, ServerContext& context, ConnectionTicket ticket);

}  // namespace p2pcdn::server
