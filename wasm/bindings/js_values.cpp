#include "js_values.hpp"

#include "../src/overloaded.hpp"
#include "p2pcdn/sha256.hpp"

namespace p2pcdn::js {
namespace {

val object() {
  return val::object();
}

std::optional<uint32_t> u32_field(const val& o, const char* key) {
  auto n = number_field(o, key);
  if (!n || *n < 0 || *n > 4294967295.0 || *n != static_cast<double>(static_cast<uint64_t>(*n))) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(*n);
}

std::optional<uint64_t> u64_field(const val& o, const char* key) {
  auto n = number_field(o, key);
  if (!n || *n < 0 || *n > 9007199254740991.0 ||
      *n != static_cast<double>(static_cast<uint64_t>(*n))) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(*n);
}

template <size_t N>
std::optional<std::array<uint8_t, N>> id_field(const val& o, const char* key) {
  auto s = string_field(o, key);
  if (!s) return std::nullopt;
  return hex_bytes<N>(*s);
}

template <size_t N>
std::optional<std::vector<std::array<uint8_t, N>>> id_list(const val& o, const char* key) {
  val list = o[key];
  if (!list.isArray()) return std::nullopt;
  const auto n = list["length"].as<unsigned>();
  std::vector<std::array<uint8_t, N>> ids;
  ids.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    val item = list[i];
    if (!item.isString()) return std::nullopt;
    auto id = hex_bytes<N>(item.as<std::string>());
    if (!id) return std::nullopt;
    ids.push_back(*id);
  }
  return ids;
}

template <size_t N>
val id_array(const std::vector<std::array<uint8_t, N>>& ids) {
  val list = val::array();
  for (const auto& id : ids) list.call<void>("push", to_hex(ByteView(id.data(), N)));
  return list;
}

template <size_t N>
val hex(const std::array<uint8_t, N>& a) {
  return val(to_hex(ByteView(a.data(), N)));
}

const char* have_op_name(HaveOp op) {
  switch (op) {
    case HaveOp::kAdd:
      return "add";
    case HaveOp::kRemove:
      return "remove";
    case HaveOp::kReplace:
      return "replace";
  }
  return "add";
}

std::optional<HaveOp> have_op(const std::string& s) {
  if (s == "add") return HaveOp::kAdd;
  if (s == "remove") return HaveOp::kRemove;
  if (s == "replace") return HaveOp::kReplace;
  return std::nullopt;
}

const char* relay_kind_name(RelayKind k) {
  switch (k) {
    case RelayKind::kOffer:
      return "offer";
    case RelayKind::kAnswer:
      return "answer";
    case RelayKind::kCandidate:
      return "candidate";
    case RelayKind::kBye:
      return "bye";
  }
  return "offer";
}

std::optional<RelayKind> relay_kind(const std::string& s) {
  if (s == "offer") return RelayKind::kOffer;
  if (s == "answer") return RelayKind::kAnswer;
  if (s == "candidate") return RelayKind::kCandidate;
  if (s == "bye") return RelayKind::kBye;
  return std::nullopt;
}

constexpr size_t kId = 32;
constexpr size_t kPeer = 16;

}  // namespace

const char* error_name(Errc code) {
  switch (code) {
    case Errc::kOk:
      return "ok";
    case Errc::kTruncated:
      return "truncated";
    case Errc::kBadVersion:
      return "bad-version";
    case Errc::kBadLength:
      return "bad-length";
    case Errc::kUnknownType:
      return "unknown-type";
    case Errc::kOversize:
      return "oversize";
    case Errc::kBadField:
      return "bad-field";
    case Errc::kUnknownRequest:
      return "unknown-request";
    case Errc::kDuplicateRequest:
      return "duplicate-request";
    case Errc::kOverflow:
      return "overflow";
    case Errc::kOverlap:
      return "overlap";
    case Errc::kTooFragmented:
      return "too-fragmented";
    case Errc::kMemoryCap:
      return "memory-cap";
    case Errc::kHashMismatch:
      return "hash-mismatch";
    case Errc::kTooManyRequests:
      return "too-many-requests";
    case Errc::kNotComplete:
      return "not-complete";
    case Errc::kForeignRequest:
      return "foreign-request";
    case Errc::kNoFirstByte:
      return "no-first-byte";
    case Errc::kTooSlow:
      return "too-slow";
  }
  return "unknown";
}

val error_value(Errc code) {
  val o = object();
  o.set("error", error_name(code));
  o.set("message", describe(code));
  return o;
}

ByteView copy_in(const val& bytes, bool& ok) {
  static std::vector<uint8_t> inbox;
  val view = bytes;
  if (bytes.instanceof (val::global("ArrayBuffer"))) view = val::global("Uint8Array").new_(bytes);
  ok = view.instanceof (val::global("Uint8Array"));
  if (!ok) return {};
  const auto n = view["length"].as<size_t>();
  if (inbox.size() < n) inbox.resize(n);
  // The heap view is taken after resize: growth would leave an older view empty.
  val(emscripten::typed_memory_view(n, inbox.data())).call<void>("set", view);
  return ByteView(inbox.data(), n);
}

val copy_out(ByteView bytes) {
  return val::global("Uint8Array")
      .new_(emscripten::typed_memory_view(bytes.size, bytes.data))
      .call<val>("slice");
}

val u32_array(const std::vector<uint32_t>& values) {
  val copy = val::global("Uint32Array")
                 .new_(emscripten::typed_memory_view(values.size(), values.data()))
                 .call<val>("slice");
  return val::global("Array").call<val>("from", copy);
}

std::optional<double> number_field(const val& o, const char* key) {
  val v = o[key];
  if (!v.isNumber()) return std::nullopt;
  return v.as<double>();
}

std::optional<std::string> string_field(const val& o, const char* key) {
  val v = o[key];
  if (!v.isString()) return std::nullopt;
  return v.as<std::string>();
}

template <size_t N>
std::optional<std::array<uint8_t, N>> hex_bytes(const std::string& hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < 2 * N; ++i) {
    const char c = hex[i];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) return std::nullopt;
    out[i / 2] = static_cast<uint8_t>(out[i / 2] << 4 | v);
  }
  return out;
}
template std::optional<std::array<uint8_t, 32>> hex_bytes<32>(const std::string&);
template std::optional<std::array<uint8_t, 16>> hex_bytes<16>(const std::string&);

Result<Frame> frame_from_js(const val& o, std::vector<uint8_t>& payload_storage) {
  auto type = string_field(o, "type");
  if (!type) return Errc::kBadField;
  if (*type == "hello") {
    auto v = u32_field(o, "maxVersion"), m = u32_field(o, "maxMessageSize"),
         c = u32_field(o, "capabilities");
    if (!v || !m || !c || *v > 255) return Errc::kBadField;
    return Frame{Hello{static_cast<uint8_t>(*v), *m, *c}};
  }
  if (*type == "have") {
    auto op = string_field(o, "op");
    auto ids = id_list<kId>(o, "ids");
    if (!op || !have_op(*op) || !ids) return Errc::kBadField;
    return Frame{Have{*have_op(*op), std::move(*ids)}};
  }
  if (*type == "request") {
    auto id = u32_field(o, "requestId");
    auto res = id_field<kId>(o, "resource"), hash = id_field<kId>(o, "contentHash");
    auto off = u64_field(o, "offset");
    const bool to_end = o["length"].isNull() || o["length"].isUndefined();
    auto len = to_end ? std::optional<uint64_t>(kToEnd) : u64_field(o, "length");
    if (!id || !res || !hash || !off || !len) return Errc::kBadField;
    return Frame{Request{*id, *res, *hash, *off, *len}};
  }
  if (*type == "response-head") {
    auto id = u32_field(o, "requestId");
    auto total = u64_field(o, "totalSize");
    auto headers = string_field(o, "headers");
    if (!id || !total || !headers) return Errc::kBadField;
    return Frame{ResponseHead{*id, *total, std::move(*headers)}};
  }
  if (*type == "data") {
    auto id = u32_field(o, "requestId");
    auto off = u64_field(o, "offset");
    val payload = o["payload"];
    if (!id || !off || !payload.instanceof (val::global("Uint8Array"))) return Errc::kBadField;
    bool ok = false;
    const ByteView in = copy_in(payload, ok);
    payload_storage.assign(in.data, in.data + in.size);
    return Frame{Data{*id, *off, ByteView(payload_storage)}};
  }
  if (*type == "cancel" || *type == "not-found") {
    auto id = u32_field(o, "requestId");
    if (!id) return Errc::kBadField;
    return *type == "cancel" ? Frame{Cancel{*id}} : Frame{NotFound{*id}};
  }
  if (*type == "error") {
    auto id = u32_field(o, "requestId"), code = u32_field(o, "code");
    auto message = string_field(o, "message");
    if (!id || !code || *code > 0xFFFF || !message) return Errc::kBadField;
    return Frame{ErrorFrame{*id, static_cast<uint16_t>(*code), std::move(*message)}};
  }
  if (*type == "ping" || *type == "pong") {
    auto nonce = u32_field(o, "nonce");
    auto at = u64_field(o, "sentAtMs");
    if (!nonce || !at) return Errc::kBadField;
    return *type == "ping" ? Frame{Ping{*nonce, *at}} : Frame{Pong{*nonce, *at}};
  }
  if (*type == "have-pieces") {
    auto res = id_field<kId>(o, "resource");
    auto count = u32_field(o, "pieceCount");
    val bits = o["bitfield"];
    if (!res || !count || !bits.instanceof (val::global("Uint8Array"))) return Errc::kBadField;
    bool ok = false;
    const ByteView in = copy_in(bits, ok);
    // encode_frame refuses a count or bitfield the decoder would refuse.
    return Frame{HavePieces{*res, *count, std::vector<uint8_t>(in.data, in.data + in.size)}};
  }
  return Errc::kUnknownType;
}

val frame_to_js(const Frame& frame) {
  val o = object();
  std::visit(Overloaded{
                 [&](const Hello& f) {
                   o.set("type", "hello");
                   o.set("maxVersion", f.max_version);
                   o.set("maxMessageSize", f.max_message_size);
                   o.set("capabilities", f.capabilities);
                 },
                 [&](const Have& f) {
                   o.set("type", "have");
                   o.set("op", have_op_name(f.op));
                   o.set("ids", id_array(f.ids));
                 },
                 [&](const Request& f) {
                   o.set("type", "request");
                   o.set("requestId", f.request_id);
                   o.set("resource", hex(f.resource));
                   o.set("contentHash", hex(f.content_hash));
                   o.set("offset", static_cast<double>(f.offset));
                   o.set("length",
                         f.length == kToEnd ? val::null() : val(static_cast<double>(f.length)));
                 },
                 [&](const ResponseHead& f) {
                   o.set("type", "response-head");
                   o.set("requestId", f.request_id);
                   o.set("totalSize", static_cast<double>(f.total_size));
                   o.set("headers", f.headers);
                 },
                 [&](const Data& f) {
                   o.set("type", "data");
                   o.set("requestId", f.request_id);
                   o.set("offset", static_cast<double>(f.offset));
                   o.set("payload", copy_out(f.payload));
                 },
                 [&](const Cancel& f) {
                   o.set("type", "cancel");
                   o.set("requestId", f.request_id);
                 },
                 [&](const NotFound& f) {
                   o.set("type", "not-found");
                   o.set("requestId", f.request_id);
                 },
                 [&](const ErrorFrame& f) {
                   o.set("type", "error");
                   o.set("requestId", f.request_id);
                   o.set("code", f.code);
                   o.set("message", f.message);
                 },
                 [&](const Ping& f) {
                   o.set("type", "ping");
                   o.set("nonce", f.nonce);
                   o.set("sentAtMs", static_cast<double>(f.sent_at_ms));
                 },
                 [&](const Pong& f) {
                   o.set("type", "pong");
                   o.set("nonce", f.nonce);
                   o.set("sentAtMs", static_cast<double>(f.sent_at_ms));
                 },
                 [&](const HavePieces& f) {
                   o.set("type", "have-pieces");
                   o.set("resource", hex(f.resource));
                   o.set("pieceCount", f.piece_count);
                   o.set("bitfield", copy_out(ByteView(f.bitfield)));
                 },
             },
             frame);
  return o;
}

Result<SignalMessage> signal_from_js(const val& o) {
  auto type = string_field(o, "type");
  if (!type) return Errc::kBadField;
  if (*type == "join") {
    auto site = string_field(o, "site"), key = string_field(o, "swarmKey");
    auto caps = u32_field(o, "capabilities");
    if (!site || !key || !caps) return Errc::kBadField;
    return SignalMessage{Join{std::move(*site), std::move(*key), *caps}};
  }
  if (*type == "welcome") {
    auto peer = id_field<kPeer>(o, "peerId");
    auto hb = u32_field(o, "heartbeatIntervalMs"), max = u32_field(o, "maxAnnounce");
    if (!peer || !hb || !max) return Errc::kBadField;
    return SignalMessage{Welcome{*peer, *hb, *max}};
  }
  if (*type == "announce" || *type == "withdraw") {
    auto ids = id_list<kId>(o, "ids");
    if (!ids) return Errc::kBadField;
    return *type == "announce" ? SignalMessage{Announce{std::move(*ids)}}
                               : SignalMessage{Withdraw{std::move(*ids)}};
  }
  if (*type == "lookup") {
    auto id = u32_field(o, "lookupId"), max = u32_field(o, "maxPeers");
    auto res = id_field<kId>(o, "resource");
    if (!id || !max || *max > 0xFFFF || !res) return Errc::kBadField;
    const uint8_t flags = o["claim"].isTrue() ? kLookupClaim : 0;
    return SignalMessage{Lookup{*id, *res, static_cast<uint16_t>(*max), flags}};
  }
  if (*type == "peers") {
    auto id = u32_field(o, "lookupId");
    auto res = id_field<kId>(o, "resource");
    auto peers = id_list<kPeer>(o, "peers");
    if (!id || !res || !peers) return Errc::kBadField;
    const uint8_t flags =
        (o["claimed"].isTrue() ? kPeersClaimed : 0) | (o["coming"].isTrue() ? kPeersComing : 0);
    return SignalMessage{Peers{*id, *res, std::move(*peers), flags}};
  }
  if (*type == "relay") {
    auto peer = id_field<kPeer>(o, "peer");
    auto kind = string_field(o, "kind"), payload = string_field(o, "payload");
    if (!peer || !kind || !relay_kind(*kind) || !payload) return Errc::kBadField;
    return SignalMessage{Relay{*peer, *relay_kind(*kind), std::move(*payload)}};
  }
  if (*type == "heartbeat" || *type == "heartbeat-ack") {
    auto at = u64_field(o, "sentAtMs");
    if (!at) return Errc::kBadField;
    return *type == "heartbeat" ? SignalMessage{Heartbeat{*at}} : SignalMessage{HeartbeatAck{*at}};
  }
  if (*type == "error") {
    auto code = u32_field(o, "code"), about = u32_field(o, "aboutType");
    auto message = string_field(o, "message");
    if (!code || *code > 0xFFFF || !about || *about > 255 || !message) return Errc::kBadField;
    return SignalMessage{SignalError{static_cast<uint16_t>(*code), static_cast<uint8_t>(*about),
                                     std::move(*message)}};
  }
  if (*type == "leave") return SignalMessage{Leave{}};
  return Errc::kUnknownType;
}

val signal_to_js(const SignalMessage& message) {
  val o = object();
  std::visit(Overloaded{
                 [&](const Join& m) {
                   o.set("type", "join");
                   o.set("site", m.site);
                   o.set("swarmKey", m.swarm_key);
                   o.set("capabilities", m.capabilities);
                 },
                 [&](const Welcome& m) {
                   o.set("type", "welcome");
                   o.set("peerId", hex(m.peer_id));
                   o.set("heartbeatIntervalMs", m.heartbeat_interval_ms);
                   o.set("maxAnnounce", m.max_announce);
                 },
                 [&](const Announce& m) {
                   o.set("type", "announce");
                   o.set("ids", id_array(m.ids));
                 },
                 [&](const Withdraw& m) {
                   o.set("type", "withdraw");
                   o.set("ids", id_array(m.ids));
                 },
                 [&](const Lookup& m) {
                   o.set("type", "lookup");
                   o.set("lookupId", m.lookup_id);
                   o.set("resource", hex(m.resource));
                   o.set("maxPeers", m.max_peers);
                   if ((m.flags & kLookupClaim) != 0) o.set("claim", true);
                 },
                 [&](const Peers& m) {
                   o.set("type", "peers");
                   o.set("lookupId", m.lookup_id);
                   o.set("resource", hex(m.resource));
                   o.set("peers", id_array(m.peers));
                   o.set("claimed", (m.flags & kPeersClaimed) != 0);
                   o.set("coming", (m.flags & kPeersComing) != 0);
                 },
                 [&](const Relay& m) {
                   o.set("type", "relay");
                   o.set("peer", hex(m.peer));
                   o.set("kind", relay_kind_name(m.kind));
                   o.set("payload", m.payload);
                 },
                 [&](const Heartbeat& m) {
                   o.set("type", "heartbeat");
                   o.set("sentAtMs", static_cast<double>(m.sent_at_ms));
                 },
                 [&](const HeartbeatAck& m) {
                   o.set("type", "heartbeat-ack");
                   o.set("sentAtMs", static_cast<double>(m.sent_at_ms));
                 },
                 [&](const SignalError& m) {
                   o.set("type", "error");
                   o.set("code", m.code);
                   o.set("aboutType", m.about_type);
                   o.set("message", m.message);
                 },
                 [&](const Leave&) { o.set("type", "leave"); },
             },
             message);
  return o;
}

}  // namespace p2pcdn::js
