// The in-memory registry on its own: bookkeeping that must stay exact under churn.
#include <gtest/gtest.h>

#include <random>
#include <set>

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
    switch (rng() % 4) {
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
