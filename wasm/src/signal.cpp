#include "p2pcdn/signal.hpp"

#include <cstring>

#include "overloaded.hpp"

namespace p2pcdn {
namespace {

constexpr size_t kIdSize = std::tuple_size<ResourceId>::value;
constexpr size_t kPeerIdSize = std::tuple_size<PeerId>::value;

void write_text(ByteWriter& w, const std::string& s) {
  w.u16(static_cast<uint16_t>(s.size()));
  w.bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void write_ids(ByteWriter& w, const std::vector<ResourceId>& ids) {
  w.u16(static_cast<uint16_t>(ids.size()));
  for (const auto& id : ids) w.array(id);
}

void write_body(ByteWriter& w, const SignalMessage& message) {
  std::visit(Overloaded{
                 [&](const Join& m) {
                   write_text(w, m.site);
                   write_text(w, m.swarm_key);
                   w.u32(m.capabilities);
                 },
                 [&](const Welcome& m) {
                   w.array(m.peer_id);
                   w.u32(m.heartbeat_interval_ms);
                   w.u32(m.max_announce);
                 },
                 [&](const Announce& m) { write_ids(w, m.ids); },
                 [&](const Withdraw& m) { write_ids(w, m.ids); },
                 [&](const Lookup& m) {
                   w.u32(m.lookup_id);
                   w.array(m.resource);
                   w.u16(m.max_peers);
                   if (m.flags != 0) w.u8(m.flags);
                 },
                 [&](const Peers& m) {
                   w.u32(m.lookup_id);
                   w.array(m.resource);
                   w.u16(static_cast<uint16_t>(m.peers.size()));
                   for (const auto& p : m.peers) w.array(p);
                   if (m.flags != 0) w.u8(m.flags);
                 },
                 [&](const Relay& m) {
                   w.array(m.peer);
                   w.u8(static_cast<uint8_t>(m.kind));
                   w.u32(static_cast<uint32_t>(m.payload.size()));
                   w.bytes(reinterpret_cast<const uint8_t*>(m.payload.data()), m.payload.size());
                 },
                 [&](const Heartbeat& m) { w.u64(m.sent_at_ms); },
                 [&](const HeartbeatAck& m) { w.u64(m.sent_at_ms); },
                 [&](const SignalError& m) {
                   w.u16(m.code);
                   w.u8(m.about_type);
                   write_text(w, m.message);
                 },
                 [&](const Leave&) {},
             },
             message);
}

bool fits_fields(const SignalMessage& message) {
  return std::visit(Overloaded{
                        [](const Join& m) {
                          return m.site.size() <= kMaxSiteLength &&
                                 m.swarm_key.size() <= kMaxSiteLength;
                        },
                        [](const Announce& m) { return m.ids.size() <= 0xFFFF; },
                        [](const Withdraw& m) { return m.ids.size() <= 0xFFFF; },
                        [](const Peers& m) { return m.peers.size() <= 0xFFFF; },
                        [](const Relay& m) { return m.payload.size() <= kDefaultMaxSignalMessage; },
                        [](const SignalError& m) { return m.message.size() <= kMaxSignalText; },
                        [](const auto&) { return true; },
                    },
                    message);
}

template <class T>
Result<SignalMessage> finish(const ByteReader& r, T message) {
  if (r.failed()) return Errc::kTruncated;
  if (r.remaining() != 0) return Errc::kBadLength;
  return SignalMessage{std::move(message)};
}

// A length-prefixed text; lengths past `cap` are oversize before anything is copied.
bool read_text(ByteReader& r, size_t cap, std::string& out, Errc& error) {
  const uint16_t length = r.u16();
  if (r.failed()) return false;
  if (length > cap) {
    error = Errc::kOversize;
    return false;
  }
  out = r.string(length);
  return !r.failed();
}

Result<SignalMessage> decode_join(ByteReader& r) {
  Join m;
  Errc error = Errc::kTruncated;
  if (!read_text(r, kMaxSiteLength, m.site, error)) return error;
  if (!read_text(r, kMaxSiteLength, m.swarm_key, error)) return error;
  m.capabilities = r.u32();
  if (!r.failed() && m.site.empty()) return Errc::kBadField;
  return finish(r, std::move(m));
}

Result<SignalMessage> decode_welcome(ByteReader& r) {
  Welcome m;
  m.peer_id = r.array<kPeerIdSize>();
  m.heartbeat_interval_ms = r.u32();
  m.max_announce = r.u32();
  return finish(r, m);
}

template <class T>
Result<SignalMessage> decode_ids(ByteReader& r) {
  T m;
  const uint16_t count = r.u16();
  if (r.failed()) return Errc::kTruncated;
  if (r.remaining() != size_t{count} * kIdSize) return Errc::kBadLength;
  m.ids.reserve(count);
  for (uint16_t i = 0; i < count; ++i) m.ids.push_back(r.array<kIdSize>());
  return finish(r, std::move(m));
}

// A trailing flags byte, absent when 0: known bits only, and never an explicit 0 (one
// encoding per message).
bool read_flags(ByteReader& r, uint8_t known, uint8_t& flags, Errc& error) {
  if (r.failed() || r.remaining() != 1) return true;
  flags = r.u8();
  if (flags == 0 || (flags & ~known) != 0) {
    error = Errc::kBadField;
    return false;
  }
  return true;
}

Result<SignalMessage> decode_lookup(ByteReader& r) {
  Lookup m;
  m.lookup_id = r.u32();
  m.resource = r.array<kIdSize>();
  m.max_peers = r.u16();
  if (!r.failed() && m.max_peers == 0) return Errc::kBadField;
  Errc error = Errc::kOk;
  if (!read_flags(r, kLookupClaim, m.flags, error)) return error;
  return finish(r, m);
}

Result<SignalMessage> decode_peers(ByteReader& r) {
  Peers m;
  m.lookup_id = r.u32();
  m.resource = r.array<kIdSize>();
  const uint16_t count = r.u16();
  if (r.failed()) return Errc::kTruncated;
  const size_t listed = size_t{count} * kPeerIdSize;
  if (r.remaining() != listed && r.remaining() != listed + 1) return Errc::kBadLength;
  m.peers.reserve(count);
  for (uint16_t i = 0; i < count; ++i) m.peers.push_back(r.array<kPeerIdSize>());
  Errc error = Errc::kOk;
  if (!read_flags(r, kPeersClaimed | kPeersComing, m.flags, error)) return error;
  if ((m.flags & kPeersClaimed) != 0 && count != 0) return Errc::kBadField;
  return finish(r, std::move(m));
}

Result<SignalMessage> decode_relay(ByteReader& r) {
  Relay m;
  m.peer = r.array<kPeerIdSize>();
  const uint8_t kind = r.u8();
  const uint32_t length = r.u32();
  if (r.failed()) return Errc::kTruncated;
  if (kind < static_cast<uint8_t>(RelayKind::kOffer) ||
      kind > static_cast<uint8_t>(RelayKind::kBye)) {
    return Errc::kBadField;
  }
  if (length != r.remaining()) return length > r.remaining() ? Errc::kTruncated : Errc::kBadLength;
  m.kind = static_cast<RelayKind>(kind);
  m.payload = r.string(length);
  return finish(r, std::move(m));
}

template <class T>
Result<SignalMessage> decode_clock(ByteReader& r) {
  T m;
  m.sent_at_ms = r.u64();
  return finish(r, m);
}

Result<SignalMessage> decode_error(ByteReader& r) {
  SignalError m;
  m.code = r.u16();
  m.about_type = r.u8();
  Errc error = Errc::kTruncated;
  if (!read_text(r, kMaxSignalText, m.message, error)) return error;
  return finish(r, std::move(m));
}

}  // namespace

static_assert(std::variant_size_v<SignalMessage> == static_cast<size_t>(SignalType::kLeave),
              "SignalMessage alternatives follow SignalType order");

SignalType signal_type(const SignalMessage& message) {
  return static_cast<SignalType>(message.index() + 1);
}

Result<std::vector<uint8_t>> encode_signal(const SignalMessage& message) {
  if (!fits_fields(message)) return Errc::kOversize;
  std::vector<uint8_t> out;
  const size_t header =
      start_envelope(out, kSignalVersion, static_cast<uint8_t>(signal_type(message)));
  ByteWriter w(out);
  write_body(w, message);
  finish_envelope(out, header);
  return out;
}

Result<SignalMessage> decode_signal(ByteView message, size_t max_message_size) {
  auto envelope = open_envelope(message, kSignalVersion, max_message_size);
  if (!envelope) return envelope.error();
  ByteReader r(envelope->body);
  switch (static_cast<SignalType>(envelope->type)) {
    case SignalType::kJoin:
      return decode_join(r);
    case SignalType::kWelcome:
      return decode_welcome(r);
    case SignalType::kAnnounce:
      return decode_ids<Announce>(r);
    case SignalType::kWithdraw:
      return decode_ids<Withdraw>(r);
    case SignalType::kLookup:
      return decode_lookup(r);
    case SignalType::kPeers:
      return decode_peers(r);
    case SignalType::kRelay:
      return decode_relay(r);
    case SignalType::kHeartbeat:
      return decode_clock<Heartbeat>(r);
    case SignalType::kHeartbeatAck:
      return decode_clock<HeartbeatAck>(r);
    case SignalType::kError:
      return decode_error(r);
    case SignalType::kLeave:
      return finish(r, Leave{});
  }
  return Errc::kUnknownType;
}

void rewrite_relay_peer(uint8_t* relay_message, const PeerId& peer) {
  std::memcpy(relay_message + kRelayPeerOffset, peer.data(), peer.size());
}

}  // namespace p2pcdn
