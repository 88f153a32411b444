#include "p2pcdn/peer_selector.hpp"

#include <gtest/gtest.h>

#include <map>

namespace p2pcdn {
namespace {

TEST(PeerScore, EwmaMovesTowardSamples) {
  PeerScore s;
  const double prior = s.rtt_ms();
  for (int i = 0; i < 30; ++i) s.on_rtt(100.0);
  EXPECT_GT(s.rtt_ms(), prior);
  EXPECT_NEAR(s.rtt_ms(), 100.0, 0.1);
  for (int i = 0; i < 30; ++i) s.on_transfer(1 << 20, 100.0);
  EXPECT_NEAR(s.bytes_per_ms(), (1 << 20) / 100.0, 1.0);
  s.on_rtt(-5);
  s.on_transfer(100, 0);
  EXPECT_NEAR(s.rtt_ms(), 100.0, 0.1);  // nonsense samples ignored
}

TEST(PeerScore, CostGrowsWithQueueAndFailures) {
  PeerScore s;
  const double idle = s.expected_cost_ms(1 << 20);
  s.on_request_start();
  EXPECT_GT(s.expected_cost_ms(1 << 20), idle);
  s.on_request_end();
  s.on_request_end();  // never below zero
  EXPECT_EQ(s.in_flight(), 0u);
  s.on_failure();
  EXPECT_GT(s.expected_cost_ms(1 << 20), idle);
  EXPECT_TRUE(s.usable());
  s.on_failure();
  s.on_failure();
  EXPECT_FALSE(s.usable());  // three in a row
  s.on_success();
  EXPECT_TRUE(s.usable());
  s.ban();
  EXPECT_FALSE(s.usable());
}

TEST(PeerSelector, PrefersFastPeers) {
  PeerSelector sel(42);
  for (int i = 0; i < 10; ++i) {
    sel.score(1).on_transfer(1 << 20, 1000);  // ~1 MB/s
    sel.score(2).on_transfer(1 << 20, 50);    // ~20 MB/s
    sel.score(3).on_transfer(1 << 20, 200);
  }
  EXPECT_EQ(sel.pick({1, 2, 3}, 1 << 20, 1), std::vector<PeerHandle>{2});
  EXPECT_EQ(sel.pick({1, 2, 3}, 1 << 20, 3), (std::vector<PeerHandle>{2, 3, 1}));
}

TEST(PeerSelector, SkipsBannedAndFailingPeersAndDuplicates) {
  PeerSelector sel(1);
  sel.score(1).ban();
  for (int i = 0; i < 3; ++i) sel.score(2).on_failure();
  EXPECT_EQ(sel.pick({1, 2, 3, 3, 3}, 1000, 5), std::vector<PeerHandle>{3});
  EXPECT_TRUE(sel.pick({1, 2}, 1000, 5).empty());
  EXPECT_TRUE(sel.pick({}, 1000, 5).empty());
  EXPECT_TRUE(sel.pick({3}, 1000, 0).empty());
}

TEST(PeerSelector, FailuresShiftWorkElsewhere) {
  PeerSelector sel(3, 0.0);
  sel.score(1).on_failure();
  EXPECT_EQ(sel.pick({1, 2}, 1000, 1), std::vector<PeerHandle>{2});
  sel.forget(1);  // a reconnected peer starts fresh
  EXPECT_EQ(sel.find(1), nullptr);
}

TEST(PeerSelector, EqualPeersShareLoadDeterministically) {
  std::map<PeerHandle, int> first_a, first_b;
  PeerSelector a(2024), b(2024);
  for (int i = 0; i < 1000; ++i) {
    ++first_a[a.pick({1, 2, 3, 4}, 1000, 1)[0]];
    ++first_b[b.pick({1, 2, 3, 4}, 1000, 1)[0]];
  }
  EXPECT_EQ(first_a, first_b);  // same seed, same choices
  for (PeerHandle h : {1u, 2u, 3u, 4u}) {
    EXPECT_GT(first_a[h], 150) << h;  // ~250 each
  }
}

TEST(PeerSelector, InFlightWorkSpreadsRequests) {
  PeerSelector sel(5, 0.0);
  const auto first = sel.pick({1, 2}, 1 << 20, 1)[0];
  sel.score(first).on_request_start();
  EXPECT_NE(sel.pick({1, 2}, 1 << 20, 1)[0], first);
}

}  // namespace
}  // namespace p2pcdn
