#include "p2pcdn/peer_selector.hpp"

#include <algorithm>
#include <utility>

namespace p2pcdn {

PeerSelector::PeerSelector(uint64_t seed, double jitter, PeerScoreParams params)
    : rng_state_(seed), jitter_(jitter), params_(params) {}

PeerScore& PeerSelector::score(PeerHandle peer) {
  return peers_.try_emplace(peer, params_).first->second;
}

const PeerScore* PeerSelector::find(PeerHandle peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

void PeerSelector::forget(PeerHandle peer) {
  peers_.erase(peer);
}

std::vector<PeerHandle> PeerSelector::pick(const std::vector<PeerHandle>& holders, uint64_t bytes,
                                           size_t k) {
  std::vector<std::pair<double, PeerHandle>> ranked;
  ranked.reserve(holders.size());
  for (PeerHandle h : holders) {
    const PeerScore& s = score(h);
    if (!s.usable()) continue;
    if (std::any_of(ranked.begin(), ranked.end(), [h](const auto& r) { return r.second == h; })) {
      continue;
    }
    ranked.emplace_back(s.expected_cost_ms(bytes) * (1.0 + jitter_ * next_unit()), h);
  }
  const size_t n = std::min(k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end());
  std::vector<PeerHandle> chosen;
  chosen.reserve(n);
  for (size_t i = 0; i < n; ++i) chosen.push_back(ranked[i].second);
  return chosen;
}

double PeerSelector::next_unit() {
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace p2pcdn
