// The in-memory registry on its own: bookkeeping that must stay exact under churn.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>

#include "memory_swarm_registry.hpp"

namespace p2pcdn::server {
namespace {

PeerId peer(uint32_t n) {
  PeerId p{};
  std::memcpy(p.data(), &n, sizeof n);
  p[15] = 1;
  return p;
}

ResourceId res(uint32_t n) {
  ResourceId r{};
  std::memcpy(r.data(), &n, sizeof n);
  return r;
}

TEST(MemorySwarmRegistry, CountsStayExactUnderChurn) {
  MemorySwarmRegistry reg;
  std::mt19937 rng(11);
  std::map<uint32_t, std::set<uint32_t>> model;  // peer -> resources, all in one swarm
  for (int step = 0; step < 20000; ++step) {
    const uint32_t p = rng() % 40, r = rng() % 30;
    switch (rng() % 5) {
      case 0:
        if (!model.count(p)) {
          reg.join(peer(p), "s");
          model[p];
        }
        break;
      case 1:
        if (model.count(p)) {
          reg.announce(peer(p), {res(r)}, 20);
          if (model[p].size() < 20) model[p].insert(r);
        }
        break;
      case 2:
        reg.withdraw(peer(p), {res(r)});
        if (model.count(p)) model[p].erase(r);
        break;
      case 3:
        reg.leave(peer(p));
        model.erase(p);
        break;
      case 4: {
        // Lookups shuffle holder lists in place: the bookkeeping must survive them.
        const size_t k = 1 + rng() % 5;
        const auto found = reg.lookup(peer(p), res(r), k);
        const std::set<PeerId> distinct(found.begin(), found.end());
        size_t holders = 0;
        for (auto& [q, rs] : model) holders += q != p && rs.count(r) ? 1 : 0;
        EXPECT_EQ(found.size(), model.count(p) ? std::min(k, holders) : 0u);
        EXPECT_EQ(distinct.size(), found.size());
        EXPECT_EQ(distinct.count(peer(p)), 0u);
        for (const PeerId& id : found) {
          uint32_t q = 0;
          std::memcpy(&q, id.data(), sizeof q);
          EXPECT_TRUE(model.count(q) && model[q].count(r));
        }
        break;
      }
    }
  }
  size_t announcements = 0;
  for (auto& [p, rs] : model) announcements += rs.size();
  EXPECT_EQ(reg.peer_count(), model.size());
  EXPECT_EQ(reg.announcement_count(), announcements);
  // Every holder the model knows is found by a lookup, and nobody else.
  reg.join(peer(999), "s");
  for (uint32_t r = 0; r < 30; ++r) {
    std::set<PeerId> expected, found;
    for (auto& [p, rs] : model) {
      if (rs.count(r)) expected.insert(peer(p));
    }
    for (const auto& id : reg.lookup(peer(999), res(r), 100)) found.insert(id);
    EXPECT_EQ(found, expected) << r;
  }
}

// An attacker's identities announce before the honest holders. Whether a holder is in a
// PEERS answer, and in which place, must not depend on that order: over many lookups each
// holder is in ~k/holders of the answers and first in ~1/holders of them.
constexpr uint32_t kFakes = 12, kHonest = 2, kLookups = 200, kK = 3;

struct Tally {
  std::map<uint32_t, int> in_answer;  // holder -> answers it was in
  std::map<uint32_t, int> first;      // holder -> answers it came first in
  void count(const std::vector<PeerId>& found) {
    ASSERT_EQ(found.size(), kK);
    for (size_t i = 0; i < found.size(); ++i) {
      uint32_t n = 0;
      std::memcpy(&n, found[i].data(), sizeof n);
      ++in_answer[n % 1000];
      if (i == 0) ++first[n % 1000];
    }
  }
  void expect_fair() {
    // Expected 3/14 = 21% of answers for every holder, honest or not; 10% is 4 standard
    // deviations below, and a list that favoured early announcers gives the honest 0%.
    for (uint32_t h = kFakes; h < kFakes + kHonest; ++h) {
      EXPECT_GE(in_answer[h], static_cast<int>(kLookups / 10)) << "honest holder " << h;
      EXPECT_GE(first[h], 1) << "honest holder " << h << " never came first";
    }
    for (uint32_t h = 0; h < kFakes; ++h) {
      EXPECT_LE(in_answer[h], static_cast<int>(kLookups * 4 / 10)) << "early holder " << h;
    }
  }
};

TEST(MemorySwarmRegistry, TheFirstLookupAfterAnnouncingIsNotWonByAnnouncingFirst) {
  MemorySwarmRegistry reg(1);
  Tally tally;
  // A new swarm each round, so every lookup is the first one after the announcements.
  for (uint32_t round = 0; round < kLookups; ++round) {
    const std::string swarm = "s" + std::to_string(round);
    for (uint32_t h = 0; h < kFakes + kHonest; ++h) {  // the fakes first
      reg.join(peer(round * 1000 + h), swarm);
      reg.announce(peer(round * 1000 + h), {res(1)}, 10);
    }
    reg.join(peer(round * 1000 + 999), swarm);
    tally.count(reg.lookup(peer(round * 1000 + 999), res(1), kK));
  }
  tally.expect_fair();
}

TEST(MemorySwarmRegistry, RepeatedLookupsAreUniformSamples) {
  MemorySwarmRegistry reg(2);
  for (uint32_t h = 0; h < kFakes + kHonest; ++h) {
    reg.join(peer(h), "s");
    reg.announce(peer(h), {res(1)}, 10);
  }
  // The asker holds the resource too (last announced): it is never handed itself.
  reg.join(peer(999), "s");
  reg.announce(peer(999), {res(1)}, 10);
  Tally tally;
  for (uint32_t i = 0; i < kLookups; ++i) {
    const auto found = reg.lookup(peer(999), res(1), kK);
    EXPECT_EQ(std::set<PeerId>(found.begin(), found.end()).size(), found.size());
    EXPECT_EQ(std::count(found.begin(), found.end(), peer(999)), 0);
    tally.count(found);
  }
  tally.expect_fair();
}

TEST(MemorySwarmRegistry, LeaveEmptiesSwarms) {
  MemorySwarmRegistry reg;
  reg.join(peer(1), "a");
  reg.join(peer(2), "b");
  EXPECT_EQ(reg.swarm_count(), 2u);
  EXPECT_TRUE(reg.same_swarm(peer(1), peer(1)));
  EXPECT_FALSE(reg.same_swarm(peer(1), peer(2)));
  reg.join(peer(2), "a");  // moving swarms leaves the old one
  EXPECT_EQ(reg.swarm_count(), 1u);
  EXPECT_TRUE(reg.same_swarm(peer(1), peer(2)));
  reg.leave(peer(1));
  reg.leave(peer(2));
  reg.leave(peer(3));  // unknown: ignored
  EXPECT_EQ(reg.swarm_count(), 0u);
  EXPECT_TRUE(reg.lookup(peer(1), res(1), 5).empty());
}

}  // namespace
}  // namespace p2pcdn::server
