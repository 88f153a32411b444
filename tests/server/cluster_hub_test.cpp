// The hub with other instances (a Cluster), driven directly with a fake cluster and fake
// connections: what it tells the cluster (changes only), lookups it answers at once or once
// the other instances have answered, relays for peers elsewhere and back. And the codec of
// the messages instances send each other.
#include <gtest/gtest.h>

#include <tuple>

#include "instance_messages.hpp"
#include "memory_swarm_registry.hpp"
#include "signal_hub.hpp"

namespace p2pcdn::server {
namespace {

constexpr const char* kSite = "https://site.example";

ResourceId resource(uint8_t seed) {
  ResourceId id{};
  id.fill(seed);
  return id;
}

PeerId peer(uint8_t seed) {
  PeerId id{};
  id.fill(seed);
  return id;
}

class FakeLink : public PeerLink {
 public:
  void send(std::shared_ptr<const std::vector<uint8_t>> message) override {
    auto decoded = decode_signal(ByteView(*message));
    ASSERT_TRUE(decoded);
    got.push_back(decoded.value());
  }
  uint64_t queued_bytes() const override { return 0; }
  void close(uint16_t code, const std::string&) override { closed_with = code; }
  void drop() override {}

  template <class T>
  std::vector<T> all() const {
    std::vector<T> found;
    for (const auto& m : got)
      if (auto* t = std::get_if<T>(&m)) found.push_back(*t);
    return found;
  }

  std::vector<SignalMessage> got;
  uint16_t closed_with = 0;
};

class FakeCluster : public Cluster {
 public:
  bool active() const override { return up; }
  void joined(const PeerId& p, const std::string& swarm) override { joins.emplace_back(p, swarm); }
  void left(const PeerId& p, const std::vector<ResourceId>& held) override {
    lefts.emplace_back(p, held);
  }
  void announced(const PeerId& p, const std::vector<ResourceId>& ids, bool claim) override {
    announces.emplace_back(p, ids, claim);
  }
  void withdrawn(const PeerId& p, const std::vector<ResourceId>& ids) override {
    withdraws.emplace_back(p, ids);
  }
  void lookup(const PeerId& asker, const ResourceId& r, size_t count, LookupDone done) override {
    lookups.push_back({asker, r, count, std::move(done)});
  }
  void relay(const PeerId& sender, const PeerId& target, std::vector<uint8_t> message) override {
    relays.emplace_back(sender, target, std::move(message));
  }

  struct AskedLookup {
    PeerId asker;
    ResourceId resource;
    size_t count;
    LookupDone done;
  };
  bool up = true;
  std::vector<std::pair<PeerId, std::string>> joins;
  std::vector<std::pair<PeerId, std::vector<ResourceId>>> lefts;
  std::vector<std::tuple<PeerId, std::vector<ResourceId>, bool>> announces;
  std::vector<std::pair<PeerId, std::vector<ResourceId>>> withdraws;
  std::vector<AskedLookup> lookups;
  std::vector<std::tuple<PeerId, PeerId, std::vector<uint8_t>>> relays;
};

class HubWithCluster : public ::testing::Test {
 protected:
  HubWithCluster() : log_(LogLevel::kError), hub_(config_, registry_, metrics_, log_) {
    config_.allow_no_origin = true;
    hub_.set_cluster(&cluster_);
  }

  // A joined peer and its connection.
  std::pair<PeerId, std::shared_ptr<FakeLink>> join(const std::string& key = "") {
    auto link = std::make_shared<FakeLink>();
    links_.push_back(link);
    const PeerId id = hub_.connect(link, ConnectionInfo{"10.0.0.1", kSite}, now_);
    send(id, Join{kSite, key, 0});
    return {id, link};
  }
  void send(const PeerId& id, const SignalMessage& message) {
    const auto bytes = encode_signal(message).value();
    hub_.receive(id, ByteView(bytes), now_ += 1);
  }

  ServerConfig config_;
  MemorySwarmRegistry registry_{42};
  Metrics metrics_;
  Logger log_;
  SignalHub hub_;
  FakeCluster cluster_;
  std::vector<std::shared_ptr<FakeLink>> links_;
  uint64_t now_ = 1000;
};

TEST_F(HubWithCluster, OnlyChangesAreMirrored) {
  auto [a, link] = join("key");
  ASSERT_EQ(cluster_.joins.size(), 1u);
  EXPECT_EQ(cluster_.joins[0].first, a);
  EXPECT_EQ(cluster_.joins[0].second, std::string(kSite) + "\nkey");
  send(a, Announce{{resource(1), resource(2)}});
  send(a, Announce{{resource(2), resource(3)}});  // 2 again: not news
  ASSERT_EQ(cluster_.announces.size(), 2u);
  EXPECT_EQ(std::get<1>(cluster_.announces[0]),
            (std::vector<ResourceId>{resource(1), resource(2)}));
  EXPECT_EQ(std::get<1>(cluster_.announces[1]), std::vector<ResourceId>{resource(3)});
  EXPECT_FALSE(std::get<2>(cluster_.announces[1]));
  send(a, Withdraw{{resource(1), resource(9)}});  // 9 was never held
  ASSERT_EQ(cluster_.withdraws.size(), 1u);
  EXPECT_EQ(cluster_.withdraws[0].second, std::vector<ResourceId>{resource(1)});
  send(a, Leave{});
  hub_.disconnect(a);  // the connection ends after the close: told once only
  ASSERT_EQ(cluster_.lefts.size(), 1u);
  auto held = cluster_.lefts[0].second;
  std::sort(held.begin(), held.end());
  EXPECT_EQ(held, (std::vector<ResourceId>{resource(2), resource(3)}));
}

TEST_F(HubWithCluster, EnoughHoldersHereAreAnsweredAtOnceWithoutAsking) {
  auto [holder, holder_link] = join();
  auto [asker, link] = join();
  send(holder, Announce{{resource(5)}});
  send(asker, Lookup{1, resource(5), 1});
  EXPECT_TRUE(cluster_.lookups.empty());
  auto peers = link->all<Peers>();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].peers, std::vector<PeerId>{holder});
}

TEST_F(HubWithCluster, TooFewHoldersHereWaitForTheOtherInstances) {
  auto [holder, holder_link] = join();
  auto [asker, link] = join();
  send(holder, Announce{{resource(5)}});
  send(asker, Lookup{2, resource(5), 4, kLookupClaim});
  ASSERT_EQ(cluster_.lookups.size(), 1u);
  EXPECT_EQ(cluster_.lookups[0].asker, asker);
  EXPECT_EQ(cluster_.lookups[0].count, 3u);  // what is missing
  EXPECT_TRUE(link->all<Peers>().empty());   // not yet
  // The other instances' holders join the answer; one of them is still fetching it.
  cluster_.lookups[0].done({{peer(0xA1), false}, {peer(0xA2), true}, {holder, false}}, now_);
  auto peers = link->all<Peers>();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].lookup_id, 2u);
  auto listed = peers[0].peers;
  std::sort(listed.begin(), listed.end());
  auto expected = std::vector<PeerId>{holder, peer(0xA1), peer(0xA2)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(peers[0].flags, kPeersComing);
  EXPECT_EQ(metrics_.remote_lookups, 1u);
}

TEST_F(HubWithCluster, NobodyAnywhereMakesTheAskerTheClaimant) {
  auto [asker, link] = join();
  send(asker, Lookup{3, resource(6), 5, kLookupClaim});
  ASSERT_EQ(cluster_.lookups.size(), 1u);
  cluster_.lookups[0].done({}, now_);
  auto peers = link->all<Peers>();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].flags, kPeersClaimed);
  ASSERT_EQ(cluster_.announces.size(), 1u);
  EXPECT_TRUE(std::get<2>(cluster_.announces[0]));  // a claim
  // Once it holds it, the others hear the claim is over.
  send(asker, Announce{{resource(6)}});
  ASSERT_EQ(cluster_.announces.size(), 2u);
  EXPECT_EQ(std::get<1>(cluster_.announces[1]), std::vector<ResourceId>{resource(6)});
  EXPECT_FALSE(std::get<2>(cluster_.announces[1]));
}

TEST_F(HubWithCluster, AnAskerGoneBeforeTheAnswerGetsNothing) {
  auto [asker, link] = join();
  send(asker, Lookup{4, resource(6), 5});
  ASSERT_EQ(cluster_.lookups.size(), 1u);
  hub_.disconnect(asker);
  cluster_.lookups[0].done({{peer(0xA1), false}}, now_);
  EXPECT_TRUE(link->all<Peers>().empty());
}

TEST_F(HubWithCluster, WithoutRedisTheInstanceAnswersAlone) {
  cluster_.up = false;
  auto [asker, link] = join();
  send(asker, Lookup{5, resource(7), 5});
  EXPECT_TRUE(cluster_.lookups.empty());
  ASSERT_EQ(link->all<Peers>().size(), 1u);
  send(asker, Relay{peer(0xB0), RelayKind::kOffer, "v=0"});
  EXPECT_TRUE(cluster_.relays.empty());
  auto errors = link->all<SignalError>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, static_cast<uint16_t>(SignalErrorCode::kUnknownPeer));
}

TEST_F(HubWithCluster, RelaysForPeersElsewhereGoToTheClusterWithTheSendersId) {
  auto [sender, link] = join();
  auto [local, local_link] = join();
  send(sender, Relay{local, RelayKind::kOffer, "here"});  // a local peer: not the cluster's
  EXPECT_TRUE(cluster_.relays.empty());
  ASSERT_EQ(local_link->all<Relay>().size(), 1u);
  send(sender, Relay{peer(0xB0), RelayKind::kOffer, "v=0 elsewhere"});
  ASSERT_EQ(cluster_.relays.size(), 1u);
  const auto& [from, to, message] = cluster_.relays[0];
  EXPECT_EQ(from, sender);
  EXPECT_EQ(to, peer(0xB0));
  auto decoded = decode_signal(ByteView(message));
  ASSERT_TRUE(decoded);
  const auto& relay = std::get<Relay>(decoded.value());
  EXPECT_EQ(relay.peer, sender);  // as the target is to get it
  EXPECT_EQ(relay.payload, "v=0 elsewhere");
  // Refusals come back as if the target were here.
  hub_.remote_relay_refused(sender, peer(0xB0), RelayOutcome::kUnknownPeer, now_);
  hub_.remote_relay_refused(sender, peer(0xB0), RelayOutcome::kTargetBusy, now_);
  auto errors = link->all<SignalError>();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, static_cast<uint16_t>(SignalErrorCode::kUnknownPeer));
  EXPECT_EQ(errors[1].code, static_cast<uint16_t>(SignalErrorCode::kRateLimited));
  EXPECT_EQ(metrics_.rejected(Rejection::kTargetBusy), 1u);
}

TEST_F(HubWithCluster, RelaysFromElsewhereMeetTheSameLimits) {
  config_.max_relay_in_per_second = 1;  // burst 2
  auto [target, link] = join();
  auto bytes = encode_signal(Relay{peer(0xC0), RelayKind::kCandidate, "c"}).value();
  EXPECT_EQ(hub_.deliver_remote_relay(target, ByteView(bytes), now_), RelayOutcome::kDelivered);
  EXPECT_EQ(hub_.deliver_remote_relay(peer(0xEE), ByteView(bytes), now_),
            RelayOutcome::kUnknownPeer);
  EXPECT_EQ(hub_.deliver_remote_relay(target, ByteView(bytes), now_), RelayOutcome::kDelivered);
  EXPECT_EQ(hub_.deliver_remote_relay(target, ByteView(bytes), now_), RelayOutcome::kTargetBusy);
  auto relays = link->all<Relay>();
  ASSERT_EQ(relays.size(), 2u);
  EXPECT_EQ(relays[0].peer, peer(0xC0));
  EXPECT_EQ(metrics_.remote_relays_received, 2u);
}

TEST(InstanceMessages, RelayAndRefusalRoundTrip) {
  const auto relay_bytes = encode_signal(Relay{peer(1), RelayKind::kAnswer, "sdp"}).value();
  const SwarmTag tag = swarm_tag("https://a.example\nkey");
  EXPECT_NE(tag, swarm_tag("https://a.example\nother"));
  const std::string wire =
      encode_instance_relay("0123456789abcdef", tag, peer(2), ByteView(relay_bytes));
  auto decoded = decode_instance_message(wire);
  ASSERT_TRUE(decoded);
  const auto& relay = std::get<InstanceRelay>(*decoded);
  EXPECT_EQ(relay.from_instance, "0123456789abcdef");
  EXPECT_EQ(relay.swarm, tag);
  EXPECT_EQ(relay.target, peer(2));
  EXPECT_EQ(std::vector<uint8_t>(relay.message.data, relay.message.data + relay.message.size),
            relay_bytes);

  const std::string refused = encode_relay_refused(peer(3), peer(4), RelayOutcome::kTargetBusy);
  EXPECT_EQ(refused.size(), 35u);
  auto back = decode_instance_message(refused);
  ASSERT_TRUE(back);
  const auto& r = std::get<InstanceRelayRefused>(*back);
  EXPECT_EQ(r.sender, peer(3));
  EXPECT_EQ(r.target, peer(4));
  EXPECT_EQ(r.reason, RelayOutcome::kTargetBusy);
}

TEST(InstanceMessages, MalformedOnesAreRefused) {
  const auto relay_bytes = encode_signal(Relay{peer(1), RelayKind::kAnswer, "sdp"}).value();
  const std::string wire =
      encode_instance_relay("0123456789abcdef", SwarmTag{}, peer(2), ByteView(relay_bytes));
  EXPECT_FALSE(decode_instance_message(""));
  EXPECT_FALSE(decode_instance_message(wire.substr(0, 50 + 23)));  // no room for the sender id
  std::string other_version = wire;
  other_version[0] = 2;
  EXPECT_FALSE(decode_instance_message(other_version));
  std::string not_a_relay = wire;
  not_a_relay[50 + 1] = 5;  // a LOOKUP inside
  EXPECT_FALSE(decode_instance_message(not_a_relay));
  std::string unknown_type = wire;
  unknown_type[1] = 9;
  EXPECT_FALSE(decode_instance_message(unknown_type));
  std::string refused = encode_relay_refused(peer(3), peer(4), RelayOutcome::kUnknownPeer);
  EXPECT_FALSE(decode_instance_message(refused + "x"));
  refused.back() = 0;  // "delivered" is never sent back
  EXPECT_FALSE(decode_instance_message(refused));
}

}  // namespace
}  // namespace p2pcdn::server
