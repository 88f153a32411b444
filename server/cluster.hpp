// What the hub tells the other instances of a scale-out, and asks of them. Without --redis
// the hub has no Cluster and runs alone, exactly as a single instance always has; with it,
// RedisCluster (redis_cluster.hpp) implements this through Redis. Everything here runs on
// the server's one I/O thread, and nothing in it blocks: answers come later, as callbacks.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "instance_messages.hpp"
#include "p2pcdn/bytes.hpp"

namespace p2pcdn::server {

// A holder connected to another instance.
struct RemoteHolder {
  PeerId peer{};
  bool claimant = false;  // announced by a claim lookup, still fetching it (fetch_claims.hpp)
};

class Cluster {
 public:
  virtual ~Cluster() = default;

  // Whether the other instances can be reached now. While not, the hub serves its own peers
  // alone; what they hold is published again once it can (resynchronisation).
  virtual bool active() const = 0;

  // The hub's peers and what they hold, mirrored as they change.
  virtual void joined(const PeerId& peer, const std::string& swarm) = 0;
  virtual void left(const PeerId& peer, const std::vector<ResourceId>& held) = 0;
  // `claim`: announced for a claim lookup (the peer is still fetching it).
  virtual void announced(const PeerId& peer, const std::vector<ResourceId>& ids, bool claim) = 0;
  virtual void withdrawn(const PeerId& peer, const std::vector<ResourceId>& ids) = 0;

  // Up to `count` holders of `resource` in `asker`'s swarm on other instances, a random sample.
  // `done` is called exactly once, later, with what was found (nothing if the other instances
  // could not be asked), and the time then.
  using LookupDone = std::function<void(std::vector<RemoteHolder> holders, uint64_t now_ms)>;
  virtual void lookup(const PeerId& asker, const ResourceId& resource, size_t count,
                      LookupDone done) = 0;

  // Forwards a RELAY to `target`, a peer of another instance. `message` is what the target is
  // to get (the sender's id already in place). Relays from one sender to one target arrive
  // in the order given; one that cannot be delivered comes back to the hub as
  // SignalHub::remote_relay_refused.
  virtual void relay(const PeerId& sender, const PeerId& target, std::vector<uint8_t> message) = 0;
};

}  // namespace p2pcdn::server
