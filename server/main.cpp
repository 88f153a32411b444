// p2pcdn-server: WebSocket signaling at /signal and static files, on one port.
#include <iostream>

#include "signal_server.hpp"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto config = p2pcdn::server::parse_server_config(argc, argv, exit_code);
  if (!config) return exit_code;
  p2pcdn::server::SignalServer server(std::move(*config));
  std::string error;
  if (server.start(error) == 0) {
    std::cerr << "p2pcdn-server: " << error << '\n';
    return 1;
  }
  server.handle_signals();
  server.run();
  return 0;
}
