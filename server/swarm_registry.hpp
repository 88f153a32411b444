// Who is in which swarm and who holds what, on this instance: the one interface the
// signaling logic uses. Several instances share what their registries hold through Redis
// (redis_cluster.hpp), which mirrors the changes this interface reports.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "p2pcdn/bytes.hpp"

namespace p2pcdn::server {

// Ids are random or SHA-256 outputs: their first bytes are already a good hash. noexcept
// and cheap, so libstdc++ does not store the hash in every map node (8 bytes each).
struct IdHash {
  template <size_t N>
  size_t operator()(const std::array<uint8_t, N>& id) const noexcept {
    size_t h = 0;
    std::memcpy(&h, id.data(), sizeof h < N ? sizeof h : N);
    return h;
  }
};

struct AnnounceResult {
  size_t added = 0;
  size_t refused = 0;  // over the per-peer limit
};

class SwarmRegistry {
 public:
  virtual ~SwarmRegistry() = default;

  // A peer enters a swarm ("site" + '\n' + "swarm key"). A peer is in at most one swarm.
  virtual void join(const PeerId& peer, const std::string& swarm) = 0;
  // Removes the peer and every announcement it made.
  virtual void leave(const PeerId& peer) = 0;
  // `added`, when given, gets the ids the peer did not hold before (for other instances).
  virtual AnnounceResult announce(const PeerId& peer, const std::vector<ResourceId>& ids,
                                  size_t max_per_peer,
                                  std::vector<ResourceId>* added = nullptr) = 0;
  // Returns how many of `ids` the peer had announced (and no longer has); `removed`, when
  // given, gets them.
  virtual size_t withdraw(const PeerId& peer, const std::vector<ResourceId>& ids,
                          std::vector<ResourceId>* removed = nullptr) = 0;
  // Every id the peer holds, in no order (to publish or retract them elsewhere).
  virtual std::vector<ResourceId> held(const PeerId& peer) const = 0;
  // Up to k holders of `resource` in the asker's swarm, never the asker: a uniformly random
  // sample in random order, so neither a place in the list nor how often a holder is handed
  // out depends on when it announced.
  virtual std::vector<PeerId> lookup(const PeerId& asker, const ResourceId& resource, size_t k) = 0;
  virtual bool same_swarm(const PeerId& a, const PeerId& b) const = 0;

  virtual size_t swarm_count() const = 0;
  virtual size_t peer_count() const = 0;
  virtual size_t announcement_count() const = 0;
};

}  // namespace p2pcdn::server
