// Crowds fetch once: when nobody holds a resource, the first peer that looks it up with
// LOOKUP's claim flag becomes its claimant (it is about to fetch it from the origin, and the
// hub announces it for that peer at once), and the peers that look it up after it are told
// that a holder listed is still fetching (PEERS' coming flag), so they wait for that copy
// instead of all going to the origin. A claim ends when its peer announces the resource
// (it holds it now) or after kClaimTtlMs; then the hub withdraws the early announcement.
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "swarm_registry.hpp"

namespace p2pcdn::server {

class FetchClaims {
 public:
  static constexpr uint64_t kClaimTtlMs = 10000;
  static constexpr size_t kMaxClaims = 100000;  // beyond it no new claim: memory stays bounded

  // `peer` claims `resource` until now_ms + kClaimTtlMs. False when full.
  bool claim(const ResourceId& resource, const PeerId& peer, uint64_t now_ms) {
    if (claims_.size() >= kMaxClaims) return false;
    const uint64_t until = now_ms + kClaimTtlMs;
    claims_[resource] = Claim{peer, until};
    expiry_.emplace_back(until, resource);
    return true;
  }

  // Whether one of `holders` is the live claimant of `resource`.
  bool coming(const ResourceId& resource, const std::vector<PeerId>& holders) const {
    auto it = claims_.find(resource);
    return it != claims_.end() &&
           std::find(holders.begin(), holders.end(), it->second.peer) != holders.end();
  }

  // `peer` announced these ids: what it claimed among them it now holds (and `out`, when
  // given, gets those ids).
  void confirmed(const PeerId& peer, const std::vector<ResourceId>& ids,
                 std::vector<ResourceId>* out = nullptr) {
    if (claims_.empty()) return;
    for (const ResourceId& id : ids) {
      auto it = claims_.find(id);
      if (it == claims_.end() || it->second.peer != peer) continue;
      claims_.erase(it);
      if (out != nullptr) out->push_back(id);
    }
  }

  // Claims past their time and never confirmed: (peer, resource) pairs to withdraw.
  std::vector<std::pair<PeerId, ResourceId>> expire(uint64_t now_ms) {
    std::vector<std::pair<PeerId, ResourceId>> out;
    while (!expiry_.empty() && expiry_.front().first <= now_ms) {
      const auto [until, resource] = expiry_.front();
      expiry_.pop_front();
      auto it = claims_.find(resource);
      // A newer claim of the same resource has a later time: it stays.
      if (it == claims_.end() || it->second.until != until) continue;
      out.emplace_back(it->second.peer, resource);
      claims_.erase(it);
    }
    return out;
  }

  size_t size() const { return claims_.size(); }

 private:
  struct Claim {
    PeerId peer{};
    uint64_t until = 0;
  };
  std::unordered_map<ResourceId, Claim, IdHash> claims_;
  std::deque<std::pair<uint64_t, ResourceId>> expiry_;  // in time order: TTLs are equal
};

}  // namespace p2pcdn::server
