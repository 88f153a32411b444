// SwarmRegistry for one server process. Every operation is O(1) per id on average:
// holders are vectors (random access for sampling), removal swaps with the last holder,
// and each peer remembers its position in every holder list it is in. A lookup is O(k): a
// partial Fisher-Yates shuffle of the holder list in place, its first k places the answer.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>

#include "swarm_registry.hpp"

namespace p2pcdn::server {

class MemorySwarmRegistry : public SwarmRegistry {
 public:
  MemorySwarmRegistry();                        // seeded from the OS's random source
  explicit MemorySwarmRegistry(uint64_t seed);  // for tests that must repeat

  void join(const PeerId& peer, const std::string& swarm) override;
  void leave(const PeerId& peer) override;
  AnnounceResult announce(const PeerId& peer, const std::vector<ResourceId>& ids,
                          size_t max_per_peer, std::vector<ResourceId>* added = nullptr) override;
  size_t withdraw(const PeerId& peer, const std::vector<ResourceId>& ids,
                  std::vector<ResourceId>* removed = nullptr) override;
  std::vector<ResourceId> held(const PeerId& peer) const override;
  std::vector<PeerId> lookup(const PeerId& asker, const ResourceId& resource, size_t k) override;
  bool same_swarm(const PeerId& a, const PeerId& b) const override;

  size_t swarm_count() const override { return swarms_.size(); }
  size_t peer_count() const override { return peers_.size(); }
  size_t announcement_count() const override { return announcements_; }

 private:
  struct Holders {
    std::vector<PeerId> peers;  // in no meaningful order: lookups shuffle it
  };
  struct Swarm {
    std::unordered_map<ResourceId, Holders, IdHash> resources;
    size_t members = 0;
  };
  using SwarmEntry = std::pair<const std::string, Swarm>;  // stays put in a node-based map
  struct Peer {
    SwarmEntry* swarm = nullptr;  // its name too, without a copy per peer
    std::unordered_map<ResourceId, uint32_t, IdHash> positions;  // index in Holders::peers
  };

  void remove_holder(Peer& peer, ResourceId resource);  // by value: callers pass keys it erases
  void swap_holders(std::vector<PeerId>& holders, const ResourceId& resource, size_t a, size_t b);

  // Unpredictable to clients (seeded by the OS), so no peer can time its announce to be
  // handed out first.
  std::mt19937_64 random_;
  std::unordered_map<std::string, Swarm> swarms_;
  std::unordered_map<PeerId, Peer, IdHash> peers_;
  size_t announcements_ = 0;
};

}  // namespace p2pcdn::server
