// The signaling logic, free of sockets: a connection hands each WebSocket message to the
// hub, and the hub answers, routes relays and enforces the per-peer limits through the
// PeerLink it was given. The Beast sessions adapt it to the network; tests can drive it
// directly.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "close_codes.hpp"
#include "cluster.hpp"
#include "fetch_claims.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "p2pcdn/signal.hpp"
#include "server_config.hpp"
#include "swarm_registry.hpp"
#include "token_bucket.hpp"

namespace p2pcdn::server {

// What the hub needs from a connection.
class PeerLink {
 public:
  virtual ~PeerLink() = default;
  virtual void send(std::shared_ptr<const std::vector<uint8_t>> message) = 0;
  // Bytes accepted by send() and not yet handed to the socket.
  virtual uint64_t queued_bytes() const = 0;
  // Sends what is queued, then a close frame.
  virtual void close(uint16_t code, const std::string& reason) = 0;
  // Ends the connection without a close handshake: for a peer that never finishes one. The
  // connection reports its end through SignalHub::disconnect later, never during this call.
  virtual void drop() = 0;
};

struct ConnectionInfo {
  std::string ip;
  std::string origin;  // the WebSocket upgrade's Origin header; empty for non-browsers
};

class SignalHub {
 public:
  SignalHub(const ServerConfig& config, SwarmRegistry& registry, Metrics& metrics,
            const Logger& log);

  PeerId connect(std::weak_ptr<PeerLink> link, ConnectionInfo info, uint64_t now_ms);
  void receive(const PeerId& peer, ByteView message, uint64_t now_ms);
  void receive_text(const PeerId& peer, uint64_t now_ms);
  // The connection is gone: forget the peer and purge its announcements.
  void disconnect(const PeerId& peer);
  // Closes peers silent for longer than the peer timeout, and drops closing peers that have
  // not finished their close handshake within another timeout.
  void sweep(uint64_t now_ms);
  // Closes every peer with 1001 after what is queued for it.
  void shutdown();

  // Scale-out (--redis): the other instances, told of every change and asked what this
  // instance lacks. Null (the default): this instance runs alone.
  void set_cluster(Cluster* cluster) { cluster_ = cluster; }
  // A relay from a peer of another instance for `target`, a peer of this one, in the same
  // swarm (the cluster checked): sent on under the same limits as a local relay.
  RelayOutcome deliver_remote_relay(const PeerId& target, ByteView message, uint64_t now_ms);
  // A relay `sender` sent to a peer of another instance was not delivered: the sender is
  // told as if the target were here.
  void remote_relay_refused(const PeerId& sender, const PeerId& target, RelayOutcome reason,
                            uint64_t now_ms);

  size_t connection_count() const { return peers_.size(); }
  Metrics& metrics() { return metrics_; }
  const ServerConfig& config() const { return config_; }

 private:
  // Kinds of refusal a peer is told of (and the log shows) once per window, not every time.
  enum Notice : uint8_t {
    kNoticeRateLimited = 1,
    kNoticeTargetBusy = 2,
    kNoticeAnnounce = 4,
    kNoticeMalformed = 8,
  };
  // Peers of one address in one swarm; the key is ip + '\n' + swarm. Nodes stay put.
  using IpSwarmEntry = std::pair<const std::string, uint32_t>;

  struct PeerState {
    std::weak_ptr<PeerLink> link;
    ConnectionInfo info;
    TokenBucket bucket;    // messages from this peer
    TokenBucket relay_in;  // relays to this peer, from anyone
    uint64_t last_seen_ms = 0;
    uint64_t window_since_ms = 0;
    uint32_t strikes = 0;              // messages of this peer dropped in the current window
    uint32_t announced = 0;            // ids it holds in the registry
    IpSwarmEntry* ip_swarm = nullptr;  // while joined: its place in joined_per_ip_swarm_
    uint8_t noticed = 0;               // Notice kinds already told in the current window
    bool joined = false;
    bool closing = false;
  };

  bool admit(const PeerId& id, PeerState& p, uint64_t now_ms);
  bool first_in_window(PeerState& p, Notice kind, uint64_t now_ms);
  bool strike(const PeerId& id, PeerState& p, Notice kind, uint64_t now_ms);
  void malformed(const PeerId& id, PeerState& p, SignalType about, const std::string& text,
                 uint64_t now_ms);
  void dispatch(const PeerId& id, PeerState& p, SignalMessage& message, uint64_t now_ms);
  void on_join(const PeerId& id, PeerState& p, const Join& join);
  void on_announce(const PeerId& id, PeerState& p, const Announce& announce, uint64_t now_ms,
                   bool claim = false);
  void on_withdraw(const PeerId& id, PeerState& p, const Withdraw& withdraw);
  void on_lookup(const PeerId& id, PeerState& p, const Lookup& lookup, uint64_t now_ms);
  // Answers a lookup with these holders (claiming the resource for the asker if none).
  void answer_lookup(const PeerId& id, PeerState& p, const Lookup& lookup,
                     std::vector<PeerId> holders, bool remote_claimant, uint64_t now_ms);
  void refuse_relay_to_busy(const PeerId& id, PeerState& p, const PeerId& target,
                            const char* reason, uint64_t now_ms);
  using AnnouncedPerIp = std::unordered_map<std::string, uint64_t>;
  void after_announce(const PeerId& id, PeerState& p, const AnnounceResult& r, size_t limit,
                      AnnouncedPerIp::iterator ip_it, uint64_t now_ms);
  void leave_swarm(const PeerId& id, PeerState& p);
  void on_relay(const PeerId& id, PeerState& p, ByteView message, const Relay& relay,
                uint64_t now_ms);
  void send(PeerState& p, const SignalMessage& message);
  void send_error(PeerState& p, SignalErrorCode code, SignalType about, const std::string& text);
  void close(const PeerId& id, PeerState& p, uint16_t code, const std::string& reason);
  void refresh_gauges();

  const ServerConfig& config_;
  SwarmRegistry& registry_;
  Metrics& metrics_;
  const Logger& log_;
  std::unordered_map<PeerId, PeerState, IdHash> peers_;
  // Per client address: joined peers per swarm, and their announcements together.
  std::unordered_map<std::string, uint32_t> joined_per_ip_swarm_;
  AnnouncedPerIp announced_per_ip_;  // only addresses above 0
  FetchClaims claims_;
  ByteView current_message_;  // the raw bytes being dispatched, for in-place relay
  Cluster* cluster_ = nullptr;
  std::mt19937_64 random_{std::random_device{}()};  // orders answers that mix instances
};

std::string peer_hex(const PeerId& id);

}  // namespace p2pcdn::server
