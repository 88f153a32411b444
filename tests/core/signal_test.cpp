#include "p2pcdn/signal.hpp"

#include <gtest/gtest.h>

namespace p2pcdn {
namespace {

std::vector<uint8_t> encoded(const SignalMessage& m) {
  auto bytes = encode_signal(m);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
}

template <class T>
T round_trip(const T& m) {
  auto decoded = decode_signal(encoded(m));
  EXPECT_TRUE(decoded.ok()) << describe(decoded.error());
  EXPECT_TRUE(std::holds_alternative<T>(decoded.value()));
  return std::get<T>(decoded.value());
}

PeerId peer_of(uint8_t seed) {
  PeerId p{};
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(seed * 3 + i);
  return p;
}

ResourceId id_of(uint8_t seed) {
  ResourceId id{};
  id.fill(seed);
  return id;
}

TEST(Signal, EveryMessageRoundTrips) {
  Join j = round_trip(Join{"https://example.com", "course-42", 3});
  EXPECT_EQ(j.site, "https://example.com");
  EXPECT_EQ(j.swarm_key, "course-42");
  EXPECT_EQ(j.capabilities, 3u);

  Welcome w = round_trip(Welcome{peer_of(1), 15000, 5000});
  EXPECT_EQ(w.peer_id, peer_of(1));
  EXPECT_EQ(w.heartbeat_interval_ms, 15000u);
  EXPECT_EQ(w.max_announce, 5000u);

  EXPECT_EQ(round_trip(Announce{{id_of(1), id_of(2)}}).ids,
            (std::vector<ResourceId>{id_of(1), id_of(2)}));
  EXPECT_EQ(round_trip(Withdraw{{id_of(3)}}).ids, std::vector<ResourceId>{id_of(3)});

  Lookup l = round_trip(Lookup{9, id_of(4), 5});
  EXPECT_EQ(l.lookup_id, 9u);
  EXPECT_EQ(l.resource, id_of(4));
  EXPECT_EQ(l.max_peers, 5);

  Peers p = round_trip(Peers{9, id_of(4), {peer_of(2), peer_of(3)}});
  EXPECT_EQ(p.lookup_id, 9u);
  EXPECT_EQ(p.resource, id_of(4));
  EXPECT_EQ(p.peers, (std::vector<PeerId>{peer_of(2), peer_of(3)}));

  Relay r = round_trip(Relay{peer_of(5), RelayKind::kAnswer, "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"});
  EXPECT_EQ(r.peer, peer_of(5));
  EXPECT_EQ(r.kind, RelayKind::kAnswer);
  EXPECT_EQ(r.payload, "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n");

  EXPECT_EQ(round_trip(Heartbeat{1234}).sent_at_ms, 1234u);
  EXPECT_EQ(round_trip(HeartbeatAck{5678}).sent_at_ms, 5678u);

  SignalError e = round_trip(SignalError{7, 5, "rate limited"});
  EXPECT_EQ(e.code, 7);
  EXPECT_EQ(e.about_type, 5);
  EXPECT_EQ(e.message, "rate limited");

  round_trip(Leave{});
}

TEST(Signal, LookupAndPeersFlagsAreOnTheWireOnlyWhenSet) {
  EXPECT_EQ(encoded(Lookup{1, id_of(1), 2, kLookupClaim}).size(),
            encoded(Lookup{1, id_of(1), 2}).size() + 1);
  EXPECT_EQ(round_trip(Lookup{1, id_of(1), 2, kLookupClaim}).flags, kLookupClaim);
  EXPECT_EQ(round_trip(Lookup{1, id_of(1), 2}).flags, 0);
  EXPECT_EQ(round_trip(Peers{1, id_of(1), {}, kPeersClaimed}).flags, kPeersClaimed);
  Peers coming = round_trip(Peers{1, id_of(1), {peer_of(1)}, kPeersComing});
  EXPECT_EQ(coming.flags, kPeersComing);
  EXPECT_EQ(coming.peers, std::vector<PeerId>{peer_of(1)});

  auto with_flags = [](std::vector<uint8_t> bytes, uint8_t flags) {
    bytes.push_back(flags);
    write_envelope(bytes.data(), kSignalVersion, bytes[1],
                   static_cast<uint32_t>(bytes.size() - kEnvelopeSize));
    return bytes;
  };
  const auto lookup = encoded(Lookup{1, id_of(1), 2});
  EXPECT_EQ(decode_signal(with_flags(lookup, 0)).error(), Errc::kBadField);     // one encoding of 0
  EXPECT_EQ(decode_signal(with_flags(lookup, 0x80)).error(), Errc::kBadField);  // unknown bit
  const auto listed = encoded(Peers{1, id_of(1), {peer_of(1)}});
  EXPECT_EQ(decode_signal(with_flags(listed, kPeersClaimed)).error(),
            Errc::kBadField);  // claimed lists nobody
  EXPECT_EQ(decode_signal(with_flags(listed, 0x04)).error(), Errc::kBadField);
  EXPECT_TRUE(decode_signal(with_flags(listed, kPeersComing)).ok());
}

TEST(Signal, RelayPeerRewrittenInPlace) {
  auto bytes = encoded(Relay{peer_of(1), RelayKind::kOffer, "sdp"});
  rewrite_relay_peer(bytes.data(), peer_of(9));
  auto decoded = decode_signal(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<Relay>(decoded.value()).peer, peer_of(9));
  EXPECT_EQ(std::get<Relay>(decoded.value()).payload, "sdp");
}

TEST(SignalMalformed, EachClassIsAnError) {
  auto bytes = encoded(Heartbeat{1});
  EXPECT_EQ(decode_signal(ByteView(bytes.data(), 5)).error(), Errc::kTruncated);
  auto wrong_version = bytes;
  wrong_version[0] = 9;
  EXPECT_EQ(decode_signal(wrong_version).error(), Errc::kBadVersion);
  auto unknown = bytes;
  unknown[1] = 99;
  EXPECT_EQ(decode_signal(unknown).error(), Errc::kUnknownType);
  auto long_body = bytes;
  long_body.push_back(0);
  EXPECT_EQ(decode_signal(long_body).error(), Errc::kBadLength);
  EXPECT_EQ(decode_signal(bytes, 8).error(), Errc::kOversize);

  auto relay = encoded(Relay{peer_of(1), RelayKind::kOffer, "abc"});
  relay[kEnvelopeSize + 16] = 0;  // no such relay kind
  EXPECT_EQ(decode_signal(relay).error(), Errc::kBadField);

  EXPECT_EQ(decode_signal(encoded(Join{"", "", 0})).error(), Errc::kBadField);
  EXPECT_EQ(encode_signal(Join{std::string(kMaxSiteLength + 1, 'a'), "", 0}).error(),
            Errc::kOversize);
  auto join = encoded(Join{"https://a", "", 0});
  join[kEnvelopeSize] = 0xFF;  // site length far past the cap
  EXPECT_EQ(decode_signal(join).error(), Errc::kOversize);

  auto lookup = encoded(Lookup{1, id_of(1), 1});
  lookup[lookup.size() - 1] = 0;  // max_peers 0
  EXPECT_EQ(decode_signal(lookup).error(), Errc::kBadField);

  auto peers = encoded(Peers{1, id_of(1), {peer_of(1)}});
  peers.pop_back();
  write_envelope(peers.data(), kSignalVersion, peers[1], static_cast<uint32_t>(peers.size() - 8));
  EXPECT_EQ(decode_signal(peers).error(), Errc::kBadLength);
}

}  // namespace
}  // namespace p2pcdn
