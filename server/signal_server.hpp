// One p2pcdn-server: binds the port, accepts connections, owns the hub and its state, and
// runs everything on one I/O thread (so no connection is touched from two threads).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "server_config.hpp"

namespace p2pcdn::server {

class SignalServer {
 public:
  explicit SignalServer(ServerConfig config);
  ~SignalServer();

  // Binds and starts accepting; returns the bound port (useful with port 0), or 0 with
  // `error` set when the address cannot be bound or TLS files cannot be loaded.
  uint16_t start(std::string& error);
  // Runs the I/O loop until shutdown completes. Call once, from the thread that owns the server.
  void run();
  // Thread-safe: stops accepting, sends close frames after what is queued, and ends run()
  // when every peer is gone or the grace period is over.
  void request_shutdown();
  // SIGTERM and SIGINT call request_shutdown().
  void handle_signals();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace p2pcdn::server
