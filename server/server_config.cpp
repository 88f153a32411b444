#include "server_config.hpp"

#include <boost/program_options.hpp>
#include <iostream>

namespace p2pcdn::server {

namespace po = boost::program_options;

namespace {

// Why a parsed config cannot run, or nullptr.
const char* check(const ServerConfig& c) {
  if (c.cert_file.empty() != c.key_file.empty()) return "--cert and --key go together";
  if (c.max_connections == 0 || c.max_connections_per_ip == 0)
    return "connection limits must be at least 1";
  if (!(c.messages_per_second > 0)) return "--messages-per-second must be positive";
  if (c.max_message_size < 1024) return "--max-message-size must be at least 1024";
  // Relays may fill half the queue: a message of the largest size must fit in that half.
  if (c.max_send_queue_bytes < 2 * uint64_t{c.max_message_size})
    return "--max-send-queue must be at least twice --max-message-size";
  if (!(c.max_relay_in_per_second > 0)) return "--max-relay-in-per-second must be positive";
  if (c.max_peers_per_ip_per_swarm == 0) return "--max-peers-per-ip-per-swarm must be at least 1";
  if (c.heartbeat_interval_ms == 0 || c.peer_timeout_ms <= c.heartbeat_interval_ms) {
    return "--peer-timeout-ms must be longer than --heartbeat-interval-ms";
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    return "--log-level must be debug, info, warn or error";
  }
  return nullptr;
}

const char* parse_cache_rules(const std::vector<std::string>& rules, ServerConfig& c) {
  for (const auto& rule : rules) {
    const size_t eq = rule.find('=');
    if (eq == std::string::npos || eq == 0 || rule[0] != '/')
      return "--cache-control takes /PREFIX=VALUE";
    c.cache_control_rules.emplace_back(rule.substr(0, eq), rule.substr(eq + 1));
  }
  return nullptr;
}

}  // namespace

std::optional<ServerConfig> parse_server_config(int argc, const char* const* argv, int& exit_code) {
  ServerConfig c;
  std::vector<std::string> cache_rules;
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
    ("allow-no-origin", po::bool_switch(&c.allow_no_origin),
       "let clients without an Origin header (not browsers) join any allowed site")
    ("deny-prefix", po::value(&c.deny_prefixes)->composing(), "answer 403 for static paths starting with this (repeatable): the origin 'down' for chosen files")
    ("cache-control", po::value(&cache_rules)->composing(), "PREFIX=VALUE: Cache-Control for static paths starting with PREFIX (repeatable)")
    ("log-level", po::value(&c.log_level)->default_value(c.log_level), "debug, info, warn or error")
    ("max-connections", po::value(&c.max_connections)->default_value(c.max_connections), "TCP connections at once")
    ("max-connections-per-ip", po::value(&c.max_connections_per_ip)->default_value(c.max_connections_per_ip), "TCP connections per client address")
    ("messages-per-second", po::value(&c.messages_per_second)->default_value(c.messages_per_second), "signaling messages per peer per second (burst: twice that)")
    ("max-message-size", po::value(&c.max_message_size)->default_value(c.max_message_size), "largest signaling message in bytes")
    ("max-announced", po::value(&c.max_announced_per_peer)->default_value(c.max_announced_per_peer), "resources one peer may announce")
    ("max-announced-per-ip", po::value(&c.max_announced_per_ip)->default_value(c.max_announced_per_ip), "resources the peers of one client address may announce together")
    ("max-peers-per-ip-per-swarm", po::value(&c.max_peers_per_ip_per_swarm)->default_value(c.max_peers_per_ip_per_swarm), "peers of one client address in one swarm")
    ("max-lookup-peers", po::value(&c.max_lookup_peers)->default_value(c.max_lookup_peers), "most peers one lookup returns")
    ("max-send-queue", po::value(&c.max_send_queue_bytes)->default_value(c.max_send_queue_bytes), "bytes queued to a peer before it is closed as too slow; relays fill at most half")
    ("max-relay-in-per-second", po::value(&c.max_relay_in_per_second)->default_value(c.max_relay_in_per_second), "relays into one peer per second, from all senders (burst: twice that)")
    ("heartbeat-interval-ms", po::value(&c.heartbeat_interval_ms)->default_value(c.heartbeat_interval_ms), "how often clients are told to send HEARTBEAT")
    ("peer-timeout-ms", po::value(&c.peer_timeout_ms)->default_value(c.peer_timeout_ms), "a peer silent this long is dropped and its announcements purged")
    ("shutdown-grace-ms", po::value(&c.shutdown_grace_ms)->default_value(c.shutdown_grace_ms), "on SIGTERM, time given to close frames and queued relays")
    ("http-timeout-ms", po::value(&c.http_timeout_ms)->default_value(c.http_timeout_ms), "time for an HTTP request (headers and body) to arrive, and so how long an idle kept-alive connection stays open; while a response is sent, the longest the client may go without reading any of it (a slow download of any length is never cut while it reads)")
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
  const char* problem = parse_cache_rules(cache_rules, c);
  if (problem == nullptr) problem = check(c);
  if (problem != nullptr) {
    std::cerr << "p2pcdn-server: " << problem << '\n';
    exit_code = 2;
    return std::nullopt;
  }
  return c;
}

}  // namespace p2pcdn::server
