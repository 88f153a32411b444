#include "metrics.hpp"

namespace p2pcdn::server {

const char* rejection_name(Rejection r) {
  switch (r) {
    case Rejection::kServerFull:
      return "server_full";
    case Rejection::kTooManyFromIp:
      return "too_many_from_ip";
    case Rejection::kRateLimited:
      return "rate_limited";
    case Rejection::kMessageTooBig:
      return "message_too_big";
    case Rejection::kMalformed:
      return "malformed";
    case Rejection::kNotJoined:
      return "not_joined";
    case Rejection::kAlreadyJoined:
      return "already_joined";
    case Rejection::kForbiddenSite:
      return "forbidden_site";
    case Rejection::kTooManyAnnouncements:
      return "too_many_announcements";
    case Rejection::kUnknownPeer:
      return "unknown_peer";
    case Rejection::kSlowReader:
      return "slow_reader";
    case Rejection::kHeartbeatTimeout:
      return "heartbeat_timeout";
    case Rejection::kTargetBusy:
      return "target_busy";
    case Rejection::kTooManyPeersFromIp:
      return "too_many_peers_from_ip";
    case Rejection::kTooManyAnnouncedFromIp:
      return "too_many_announced_from_ip";
    case Rejection::kCount:
      break;
  }
  return "unknown";
}

namespace {

void metric(std::string& out, const char* name, const char* type, const char* help,
            uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

// Paths come from the static folder's file names; escape what Prometheus label values need.
std::string label_value(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string Metrics::prometheus_text() const {
  std::string out;
  metric(out, "p2pcdn_connections_accepted_total", "counter", "TCP connections accepted",
         connections_accepted);
  metric(out, "p2pcdn_connections_open", "gauge", "TCP connections open (HTTP and WebSocket)",
         connections_open);
  metric(out, "p2pcdn_websockets_open", "gauge", "signaling WebSockets open", websockets_open);
  metric(out, "p2pcdn_peers", "gauge", "peers joined to a swarm", peers_joined);
  metric(out, "p2pcdn_swarms", "gauge", "swarms with at least one peer", swarms);
  metric(out, "p2pcdn_announcements", "gauge", "resource announcements held", announcements);
  metric(out, "p2pcdn_messages_received_total", "counter", "signaling messages received",
         messages_received);
  metric(out, "p2pcdn_relays_total", "counter", "offers, answers and candidates relayed", relays);
  metric(out, "p2pcdn_lookups_total", "counter", "lookups answered", lookups);
  metric(out, "p2pcdn_claims_total", "counter",
         "lookups whose asker became the claimant of a resource nobody held", claims);
  metric(out, "p2pcdn_bytes_received_total", "counter", "signaling bytes received", bytes_received);
  metric(out, "p2pcdn_bytes_sent_total", "counter", "signaling bytes sent", bytes_sent);
  metric(out, "p2pcdn_http_requests_total", "counter", "HTTP requests answered", http_requests);
  if (redis_configured) {
    metric(out, "p2pcdn_redis_up", "gauge",
           "1 while Redis, and through it the other instances, can be reached", redis_up);
    metric(out, "p2pcdn_redis_outages_total", "counter",
           "times Redis was found unavailable, at start or lost later", redis_outages);
    metric(out, "p2pcdn_redis_errors_total", "counter", "error replies from Redis", redis_errors);
    metric(out, "p2pcdn_redis_resyncs_total", "counter",
           "times this instance published its peers and holders to Redis in full", redis_resyncs);
    metric(out, "p2pcdn_remote_lookups_total", "counter",
           "lookups that asked the other instances for holders", remote_lookups);
    metric(out, "p2pcdn_remote_relays_sent_total", "counter",
           "relays handed to other instances for their peers", remote_relays_sent);
    metric(out, "p2pcdn_remote_relays_received_total", "counter",
           "relays from other instances delivered to peers here", remote_relays_received);
  }
  out += "# HELP p2pcdn_rejections_total messages or connections refused, by reason\n";
  out += "# TYPE p2pcdn_rejections_total counter\n";
  for (int i = 0; i < static_cast<int>(Rejection::kCount); ++i) {
    out += "p2pcdn_rejections_total{reason=\"";
    out += rejection_name(static_cast<Rejection>(i));
    out += "\"} ";
    out += std::to_string(rejections[i]);
    out += '\n';
  }
  out += "# HELP p2pcdn_static_bytes_total static file bytes sent, by path\n";
  out += "# TYPE p2pcdn_static_bytes_total counter\n";
  for (const auto& [path, bytes] : static_bytes_by_path) {
    out += "p2pcdn_static_bytes_total{path=\"" + label_value(path) + "\"} " +
           std::to_string(bytes) + '\n';
  }
  return out;
}

}  // namespace p2pcdn::server
