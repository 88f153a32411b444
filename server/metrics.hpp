// Server counters and gauges, rendered in Prometheus text format for GET /metrics.
// Touched only from the server's one I/O thread, so plain integers suffice.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace p2pcdn::server {

// Why a message or connection was refused; each has its own counter.
enum class Rejection {
  kServerFull,
  kTooManyFromIp,
  kRateLimited,
  kMessageTooBig,
  kMalformed,
  kNotJoined,
  kAlreadyJoined,
  kForbiddenSite,
  kTooManyAnnouncements,
  kUnknownPeer,
  kSlowReader,
  kHeartbeatTimeout,
  kTargetBusy,  // a relay refused because its target already gets all it may
  kTooManyPeersFromIp,
  kTooManyAnnouncedFromIp,
  kCount
};

const char* rejection_name(Rejection r);

struct Metrics {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;  // TCP, HTTP and WebSocket
  uint64_t websockets_open = 0;
  uint64_t peers_joined = 0;   // gauge: peers in a swarm now
  uint64_t swarms = 0;         // gauge, from the registry
  uint64_t announcements = 0;  // gauge, from the registry
  uint64_t messages_received = 0;
  uint64_t relays = 0;
  uint64_t lookups = 0;
  uint64_t claims = 0;  // lookups that made their asker a resource's claimant (crowds)
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t http_requests = 0;
  // Scale-out (--redis); shown only when it is on.
  bool redis_configured = false;
  uint64_t redis_up = 0;                // gauge: 1 while the other instances can be reached
  uint64_t redis_outages = 0;           // times Redis was found unavailable (at start or lost)
  uint64_t redis_errors = 0;            // error replies from Redis
  uint64_t remote_lookups = 0;          // lookups that asked the other instances
  uint64_t remote_relays_sent = 0;      // relays handed to other instances
  uint64_t remote_relays_received = 0;  // relays from other instances delivered here
  uint64_t redis_resyncs = 0;           // times this instance's state was published again in full
  uint64_t rejections[static_cast<int>(Rejection::kCount)] = {};
  // Static bytes sent per path: lets tests and operators see origin load per resource.
  std::map<std::string, uint64_t> static_bytes_by_path;

  void reject(Rejection r) { ++rejections[static_cast<int>(r)]; }
  uint64_t rejected(Rejection r) const { return rejections[static_cast<int>(r)]; }
  std::string prometheus_text() const;
};

}  // namespace p2pcdn::server
