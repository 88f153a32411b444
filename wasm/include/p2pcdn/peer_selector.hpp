// Chooses which peers to ask for a resource: the k cheapest by PeerScore among those that
// hold it, with a little seeded randomness so equal peers share the load.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "p2pcdn/peer_handle.hpp"
#include "p2pcdn/peer_score.hpp"

namespace p2pcdn {

class PeerSelector {
 public:
  // jitter: each cost is multiplied by a random factor in [1, 1 + jitter).
  explicit PeerSelector(uint64_t seed, double jitter = 0.2, PeerScoreParams params = {});

  // The score of a peer, created with the priors on first use.
  PeerScore& score(PeerHandle peer);
  const PeerScore* find(PeerHandle peer) const;
  void forget(PeerHandle peer);

  // Up to k usable holders, cheapest first, for a transfer of `bytes`.
  std::vector<PeerHandle> pick(const std::vector<PeerHandle>& holders, uint64_t bytes, size_t k);

 private:
  double next_unit();  // uniform in [0, 1), SplitMix64: same sequence on every platform

  uint64_t rng_state_;
  double jitter_;
  PeerScoreParams params_;
  std::unordered_map<PeerHandle, PeerScore> peers_;
};

}  // namespace p2pcdn
