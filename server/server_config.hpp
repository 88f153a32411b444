// Every setting of p2pcdn-server, with its default and the reason for it. Parsed from the
// command line by parse_server_config(); tests build one directly.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p2pcdn::server {

struct ServerConfig {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 8080;
  std::string root;  // static folder; empty: no static files
  std::string cert_file;
  std::string key_file;
  // Sites (page origins) allowed to join; empty: any. A browser's Origin header must
  // match the site it joins in any case, so one site cannot join another's swarm.
  std::vector<std::string> allowed_origins;
  // A browser always sends Origin: without one, a client could join any allowed site's
  // swarm, so such a JOIN is refused unless the operator wants non-browser clients.
  bool allow_no_origin = false;
  std::string log_level = "info";
  // One line per HTTP request and per WebSocket accepted; off by default, so the hot path
  // pays only a flag test.
  bool access_log = false;
  // Static paths answered 403 (e.g. to show a swarm serving while the origin is down).
  std::vector<std::string> deny_prefixes;
  // Cache-Control per path prefix ("PREFIX=VALUE"), overriding the defaults below.
  std::vector<std::pair<std::string, std::string>> cache_control_rules;

  // Limits. Each is enforced with a close code or an ERROR, and counted in /metrics.
  uint32_t max_connections = 20000;         // all TCP connections, HTTP included
  uint32_t max_connections_per_ip = 64;     // a NAT holds several visitors, not thousands
  double messages_per_second = 50;          // per peer; trickle ICE bursts stay well below
  uint32_t max_message_size = 64 * 1024;    // WebSocket message; an SDP offer is a few KB
  uint32_t max_announced_per_peer = 5000;   // resources one peer may announce
  uint32_t max_lookup_peers = 20;           // PEERS never lists more
  uint64_t max_send_queue_bytes = 1 << 20;  // a peer that does not read is closed
  uint32_t heartbeat_interval_ms = 15000;   // told to clients in WELCOME
  uint32_t peer_timeout_ms = 40000;         // silent this long: dropped and purged
  uint32_t shutdown_grace_ms = 5000;        // SIGTERM: time for close frames to go out
  uint32_t http_timeout_ms = 30000;         // for a request to arrive; a response's longest stall
  uint32_t cache_max_age_s = 3600;          // Cache-Control for static files (HTML: no-cache)

  // Limits on what many sockets of one client can do together.
  double max_relay_in_per_second = 100;  // into one peer from all (burst 2x): a link needs ~10
  // Per client address (a NAT or proxy shares one: raise them there, as for connections).
  uint32_t max_peers_per_ip_per_swarm = 16;  // one address cannot fill a swarm with identities
  uint64_t max_announced_per_ip = 20000;     // summed over its peers: a bound on fake holders

  // Scale-out: several instances share swarms through this Redis ("host:port"); empty: this
  // instance runs alone, with its state in memory only.
  std::string redis;
  std::string redis_host;  // parsed from `redis`
  uint16_t redis_port = 0;
  // Every key and channel starts with it: several deployments can share one Redis.
  std::string redis_prefix = "p2pcdn:";
  // An instance that stops refreshing its heartbeat key for this long is taken for dead: its
  // holders are no longer handed out. It refreshes every third of it.
  uint32_t redis_ttl_ms = 3000;

  bool tls() const { return !cert_file.empty(); }
};

// Parses argv. On --help, --version or an error, returns nullopt after printing the help, the
// version or a message that names the bad flag; exit_code says which (0 for help and version).
std::optional<ServerConfig> parse_server_config(int argc, const char* const* argv, int& exit_code);

}  // namespace p2pcdn::server
