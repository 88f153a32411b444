#include "p2pcdn/peer_reputation.hpp"

#include <gtest/gtest.h>

namespace p2pcdn {
namespace {

std::string id(char c) {
  return std::string(32, c);
}

TEST(PeerReputation, ProofOfHostilityBansAtOnce) {
  for (PeerOffense o : {PeerOffense::kLied, PeerOffense::kMalformed, PeerOffense::kInjected,
                        PeerOffense::kFlooded}) {
    PeerReputation r;
    EXPECT_TRUE(r.on_offense(id('a'), o, 1)) << offense_name(o);
    EXPECT_TRUE(r.banned(id('a')));
    EXPECT_EQ(r.find(id('a'))->banned_for, o);
    EXPECT_TRUE(r.rank({id('a'), id('b')}) == std::vector<std::string>{id('b')});
  }
}

TEST(PeerReputation, StallsAndDripsAreStrikesThenABan) {
  PeerReputation r;
  EXPECT_FALSE(r.on_offense(id('a'), PeerOffense::kStalled, 1000));
  EXPECT_TRUE(r.usable(id('a')));
  // Strikes close together are one event (all requests of a starved peer expiring at once).
  EXPECT_FALSE(r.on_offense(id('a'), PeerOffense::kDripped, 3999));
  EXPECT_EQ(r.find(id('a'))->strikes, 1u);
  EXPECT_TRUE(r.on_offense(id('a'), PeerOffense::kDripped, 4000));
  EXPECT_EQ(r.find(id('a'))->banned_for, PeerOffense::kDripped);
  // A later offense does not rewrite why it was banned.
  EXPECT_TRUE(r.on_offense(id('a'), PeerOffense::kLied, 5000));
  EXPECT_EQ(r.find(id('a'))->banned_for, PeerOffense::kDripped);
}

TEST(PeerReputation, RankPrefersPeersThatDeliveredAndSkipsUnreachableOnes) {
  PeerReputation r;
  r.on_delivered(id('d'), 100, 1);
  r.on_delivered(id('e'), 5000, 1);
  r.on_offense(id('5'), PeerOffense::kStalled, 1);
  r.on_offense(id('9'), PeerOffense::kConnectFailed, 1);
  const std::vector<std::string> in = {id('1'), id('5'), id('c'), id('9'),
                                       id('2'), id('d'), id('e'), id('1')};
  const std::vector<std::string> want = {id('e'), id('d'), id('1'), id('c'), id('2'), id('5')};
  EXPECT_EQ(r.rank(in), want);
  // Delivering clears failed connects.
  r.on_delivered(id('9'), 1, 2);
  EXPECT_TRUE(r.usable(id('9')));
}

TEST(PeerReputation, SurvivesSaveAndLoadWithinAVisitOnly) {
  PeerReputation r;
  r.on_offense(id('a'), PeerOffense::kLied, 1000);
  r.on_delivered(id('b'), 42, 2000);
  r.on_offense(id('c'), PeerOffense::kStalled, 3000);
  const std::string saved = r.save();

  PeerReputation next;
  next.load(saved, 4000);
  EXPECT_TRUE(next.banned(id('a')));
  EXPECT_EQ(next.find(id('b'))->delivered_bytes, 42u);
  EXPECT_EQ(next.find(id('c'))->strikes, 1u);

  PeerReputation much_later;
  much_later.load(saved, 1000 + 60 * 60 * 1000 + 1);
  EXPECT_FALSE(much_later.banned(id('a')));
  EXPECT_NE(much_later.find(id('b')), nullptr);
}

TEST(PeerReputation, LoadSkipsWhatIsNotARecord) {
  PeerReputation r;
  r.load("garbage\n" + id('A') + " 1 0 0 0 5\n" + id('b') + " 1 0 0 99 5\n" + id('c') +
             " 1 0 0 0 5 extra\n" + id('d') + " -1 0 0 0 5\n" + id('e') + " 7 0 0 1 5",
         10);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.banned(id('e')));
  // Ids that are not peer ids are never stored.
  r.on_offense("short", PeerOffense::kLied, 1);
  EXPECT_EQ(r.size(), 1u);
}

TEST(PeerReputation, HoldsAtMostMaxPeersDroppingTheOldest) {
  ReputationLimits limits;
  limits.max_peers = 3;
  PeerReputation r(limits);
  r.on_delivered(id('a'), 1, 1);
  r.on_delivered(id('b'), 1, 2);
  r.on_delivered(id('c'), 1, 3);
  r.on_delivered(id('d'), 1, 4);
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.find(id('a')), nullptr);
  EXPECT_NE(r.find(id('d')), nullptr);
}

}  // namespace
}  // namespace p2pcdn
