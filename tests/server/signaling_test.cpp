// Join, heartbeat, announce, lookup and relay against the real server over loopback.
#include <gtest/gtest.h>

#include <set>

#include "fetch_claims.hpp"
#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

constexpr const char* kSite = "https://site.example";

TEST(Signaling, JoinGivesARandomPeerIdAndHeartbeatsAreEchoed) {
  RunningServer server(test_config());
  ASSERT_NE(server.port(), 0);
  WsClient a, b;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  a.send(Join{kSite, "", 0});
  auto welcome = a.read_as<Welcome>();
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->heartbeat_interval_ms, test_config().heartbeat_interval_ms);
  EXPECT_EQ(welcome->max_announce, test_config().max_announced_per_peer);
  const PeerId id_b = b.join(kSite);
  EXPECT_NE(welcome->peer_id, PeerId{});
  EXPECT_NE(welcome->peer_id, id_b);
  a.send(Heartbeat{123456});
  auto ack = a.read_as<HeartbeatAck>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->sent_at_ms, 123456u);
}

TEST(Signaling, LookupFindsHoldersButNeverTheAsker) {
  RunningServer server(test_config());
  WsClient a, b;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  const PeerId id_a = a.join(kSite);
  b.join(kSite);
  a.send(Announce{{resource(1), resource(2)}});
  a.sync();
  b.send(Lookup{7, resource(1), 5});
  auto peers = b.read_as<Peers>();
  ASSERT_TRUE(peers);
  EXPECT_EQ(peers->lookup_id, 7u);
  EXPECT_EQ(peers->resource, resource(1));
  EXPECT_EQ(peers->peers, std::vector<PeerId>{id_a});
  a.send(Lookup{8, resource(1), 5});
  auto own = a.read_as<Peers>();
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->peers.empty());
  // Withdrawn ids are no longer found.
  a.send(Withdraw{{resource(1)}});
  a.sync();
  b.send(Lookup{9, resource(1), 5});
  auto after = b.read_as<Peers>();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->peers.empty());
}

TEST(Signaling, ACrowdFetchesOnceTheFirstAskerClaimsAndTheOthersHearItIsComing) {
  RunningServer server(test_config());
  WsClient a, b, c;
  for (WsClient* x : {&a, &b, &c}) ASSERT_TRUE(x->connect(server.port()));
  const PeerId id_a = a.join(kSite);
  b.join(kSite);
  c.join(kSite);
  a.send(Lookup{1, resource(5), 5, kLookupClaim});
  auto claimed = a.read_as<Peers>();
  ASSERT_TRUE(claimed);
  EXPECT_TRUE(claimed->peers.empty());
  EXPECT_EQ(claimed->flags, kPeersClaimed);
  b.send(Lookup{2, resource(5), 5, kLookupClaim});
  auto coming = b.read_as<Peers>();
  ASSERT_TRUE(coming);
  EXPECT_EQ(coming->peers, std::vector<PeerId>{id_a});
  EXPECT_EQ(coming->flags, kPeersComing);
  // A lookup without the flag gets no flags (an older client could not read them).
  c.send(Lookup{3, resource(5), 5});
  auto plain = c.read_as<Peers>();
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->peers, std::vector<PeerId>{id_a});
  EXPECT_EQ(plain->flags, 0);
  // A holds it now: an ordinary holder.
  a.send(Announce{{resource(5)}});
  a.sync();
  c.send(Lookup{4, resource(5), 5, kLookupClaim});
  auto held = c.read_as<Peers>();
  ASSERT_TRUE(held);
  EXPECT_EQ(held->peers, std::vector<PeerId>{id_a});
  EXPECT_EQ(held->flags, 0);
  // The claimant leaves: the next asker claims it.
  a.close();
  b.sync();
  b.send(Lookup{5, resource(5), 5, kLookupClaim});
  auto again = b.read_as<Peers>();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->peers.empty());
  EXPECT_EQ(again->flags, kPeersClaimed);
}

TEST(FetchClaims, AnUnconfirmedClaimExpiresAndANewerOneStays) {
  server::FetchClaims claims;
  const PeerId a = PeerId{{1}}, b = PeerId{{2}};
  ASSERT_TRUE(claims.claim(resource(1), a, 0));
  ASSERT_TRUE(claims.claim(resource(2), a, 0));
  claims.confirmed(a, {resource(2)});
  EXPECT_TRUE(claims.coming(resource(1), {b, a}));
  EXPECT_FALSE(claims.coming(resource(2), {a}));
  EXPECT_TRUE(claims.expire(server::FetchClaims::kClaimTtlMs - 1).empty());
  ASSERT_TRUE(claims.claim(resource(3), b, 5000));
  const auto gone = claims.expire(server::FetchClaims::kClaimTtlMs);
  ASSERT_EQ(gone.size(), 1u);  // resource(2) was confirmed: nothing to withdraw
  EXPECT_EQ(gone[0], std::make_pair(a, resource(1)));
  EXPECT_TRUE(claims.coming(resource(3), {b}));
  EXPECT_EQ(claims.size(), 1u);
}

TEST(Signaling, LookupsSpreadOverAllHolders) {
  RunningServer server(test_config());
  std::vector<std::unique_ptr<WsClient>> holders;
  std::set<PeerId> ids;
  for (int i = 0; i < 6; ++i) {
    holders.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(holders.back()->connect(server.port()));
    ids.insert(holders.back()->join(kSite));
    holders.back()->send(Announce{{resource(3)}});
    holders.back()->sync();
  }
  WsClient asker;
  ASSERT_TRUE(asker.connect(server.port()));
  asker.join(kSite);
  // Each answer is a random sample: over 40 lookups every holder is handed out (a given one
  // is missed with probability (2/3)^40, under 1e-7).
  std::set<PeerId> seen;
  for (uint32_t i = 0; i < 40; ++i) {
    asker.send(Lookup{i, resource(3), 2});
    auto peers = asker.read_as<Peers>();
    ASSERT_TRUE(peers);
    ASSERT_EQ(peers->peers.size(), 2u);
    EXPECT_NE(peers->peers[0], peers->peers[1]);
    seen.insert(peers->peers.begin(), peers->peers.end());
  }
  EXPECT_EQ(seen, ids);
}

TEST(Signaling, RelayReachesTheTargetWithTheSendersId) {
  RunningServer server(test_config());
  WsClient a, b;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  const PeerId id_a = a.join(kSite);
  const PeerId id_b = b.join(kSite);
  const std::string sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n";
  a.send(Relay{id_b, RelayKind::kOffer, sdp});
  auto offer = b.read_as<Relay>();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->peer, id_a);
  EXPECT_EQ(offer->kind, RelayKind::kOffer);
  EXPECT_EQ(offer->payload, sdp);
  b.send(Relay{id_a, RelayKind::kAnswer, "answer"});
  auto answer = a.read_as<Relay>();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->peer, id_b);
  EXPECT_EQ(answer->payload, "answer");
}

TEST(Signaling, SwarmsAreSeparateBySiteAndKey) {
  RunningServer server(test_config());
  WsClient a, other_site, other_key;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(other_site.connect(server.port(), "https://other.example"));
  ASSERT_TRUE(other_key.connect(server.port()));
  const PeerId id_a = a.join(kSite);
  const PeerId id_site = other_site.join("https://other.example");
  const PeerId id_key = other_key.join(kSite, "course-2");
  a.send(Announce{{resource(4)}});
  a.sync();
  for (WsClient* c : {&other_site, &other_key}) {
    c->send(Lookup{1, resource(4), 5});
    auto peers = c->read_as<Peers>();
    ASSERT_TRUE(peers);
    EXPECT_TRUE(peers->peers.empty());
    // Relay across swarms is refused, and nothing reaches a.
    c->send(Relay{id_a, RelayKind::kOffer, "x"});
    auto error = c->read_as<SignalError>();
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kUnknownPeer));
  }
  a.send(Relay{id_site, RelayKind::kOffer, "x"});
  EXPECT_TRUE(a.read_as<SignalError>());
  a.send(Relay{id_key, RelayKind::kOffer, "x"});
  EXPECT_TRUE(a.read_as<SignalError>());
  a.send(Relay{id_a, RelayKind::kOffer, "to myself"});
  EXPECT_TRUE(a.read_as<SignalError>());
}

TEST(Signaling, LeavingPurgesAnnouncements) {
  RunningServer server(test_config());
  WsClient b;
  ASSERT_TRUE(b.connect(server.port()));
  b.join(kSite);
  {
    WsClient a;
    ASSERT_TRUE(a.connect(server.port()));
    a.join(kSite);
    a.send(Announce{{resource(5)}});
    a.sync();
    a.send(Leave{});
    EXPECT_EQ(a.wait_close(), 1000);
  }
  b.send(Lookup{1, resource(5), 5});
  auto peers = b.read_as<Peers>();
  ASSERT_TRUE(peers);
  EXPECT_TRUE(peers->peers.empty());
}

}  // namespace
}  // namespace p2pcdn::testing
