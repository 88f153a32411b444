#include "server_config.hpp"

#include <boost/program_options.hpp>
#include <iostream>

namespace p2pcdn::server {

namespace po = boost::program_options;

std::optional<ServerConfig> parse_server_config(int argc, const char* const* argv, int& exit_code) {
  ServerConfig c;
  po::options_description options("p2pcdn-server: signaling for p2pcdn, and static files");
  // clang-format off
  options.add_options()
    ("help,h", "show this help")
    ("bind", po::value(&c.bind_address)->default_value(c.bind_address), "address to listen on")
    ("port,p", po::value(&c.port)->default_value(c.port), "port for HTTP(S) and WebSocket signaling at /signal")
    ("root,r", po::value(&c.root), "folder of static files to serve (the demo: web_app/ and dist/)")
    ("cert", po::value(&c.cert_file), "TLS certificate chain (PEM); enables HTTPS/WSS on the same port")
    ("key", po::value(&c.key_file), "TLS private key (PEM)")
    ("allow-origin", po::value(&c.allowed_origins)->composing(),
       "site allowed to join (e.g. https://example.com); repeat for several; default: any")
    ("log-level", po::value(&c.log_level)->default_value(c.log_level), "debug, info, warn or error")
    ("max-connections", po::value(&c.max_connections)->default_value(c.max_connections), "TCP connections at once")
    ("max-connections-per-ip", po::value(&c.max_connections_per_ip)->default_value(c.max_connections_per_ip), "TCP connections per client address")
    ("messages-per-second", po::value(&c.messages_per_second)->default_value(c.messages_per_second), "signaling messages per peer per second (burst: twice that)")
    ("max-message-size", po::value(&c.max_message_size)->default_value(c.max_message_size), "largest signaling message in bytes")
    ("max-announced", po::value(&c.max_announced_per_peer)->default_value(c.max_announced_per_peer), "resources one peer may announce")
    ("max-lookup-peers", po::value(&c.max_lookup_peers)->default_value(c.max_lookup_peers), "most peers one lookup returns")
    ("max-send-queue", po::value(&c.max_send_queue_bytes)->default_value(c.max_send_queue_bytes), "bytes queued to a peer before it is closed as too slow")
    ("heartbeat-interval-ms", po::value(&c.heartbeat_interval_ms)->default_value(c.heartbeat_interval_ms), "how often clients are told to send HEARTBEAT")
    ("peer-timeout-ms", po::value(&c.peer_timeout_ms)->default_value(c.peer_timeout_ms), "a peer silent this long is dropped and its announcements purged")
    ("shutdown-grace-ms", po::value(&c.shutdown_grace_ms)->default_value(c.shutdown_grace_ms), "on SIGTERM, time given to close frames and queued relays")
    ("http-timeout-ms", po::value(&c.http_timeout_ms)->default_value(c.http_timeout_ms), "time allowed for an HTTP request to arrive")
    ("cache-max-age", po::value(&c.cache_max_age_s)->default_value(c.cache_max_age_s), "Cache-Control max-age for static files other than HTML");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "p2pcdn-server: " << e.what() << "\n(see --help)\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << options << '\n';
    exit_code = 0;
    return std::nullopt;
  }
  const char* problem = nullptr;
  if (c.cert_file.empty() != c.key_file.empty())
    problem = "--cert and --key go together";
  else if (c.max_connections == 0 || c.max_connections_per_ip == 0)
    problem = "connection limits must be at least 1";
  else if (!(c.messages_per_second > 0))
    problem = "--messages-per-second must be positive";
  else if (c.max_message_size < 1024)
    problem = "--max-message-size must be at least 1024";
  else if (c.heartbeat_interval_ms == 0 || c.peer_timeout_ms <= c.heartbeat_interval_ms)
    problem = "--peer-timeout-ms must be longer than --heartbeat-interval-ms";
  else if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
           c.log_level != "error")
    problem = "--log-level must be debug, info, warn or error";
  if (problem != nullptr) {
    std::cerr << "p2pcdn-server: " << problem << '\n';
    exit_code = 2;
    return std::nullopt;
  }
  return c;
}

}  // namespace p2pcdn::server
