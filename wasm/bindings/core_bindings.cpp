// The core's JavaScript interface (embind). Every function returns a value or an
// {error, message} object; nothing throws into JS. Bytes enter with one memcpy
// (copy_in) and leave as a JS-owned copy or, for bodies, a view into the heap.
#include <emscripten/bind.h>
#include <emscripten/heap.h>

#include <cmath>

#include "js_values.hpp"
#include "p2pcdn/chunk_assembler.hpp"
#include "p2pcdn/data_chunker.hpp"
#include "p2pcdn/peer_reputation.hpp"
#include "p2pcdn/peer_selector.hpp"
#include "p2pcdn/piece_scheduler.hpp"
#include "p2pcdn/sha256.hpp"

namespace p2pcdn::js {
namespace {

val invalid_bytes() {
  val o = error_value(Errc::kBadField);
  o.set("message", "expected a Uint8Array or ArrayBuffer");
  return o;
}

std::optional<Sha256Digest> digest_from_text(const std::string& text) {
  return text.rfind("sha256-", 0) == 0 ? digest_from_sri(text) : digest_from_hex(text);
}

val sha256_hex(val bytes) {
  bool ok = false;
  const ByteView in = copy_in(bytes, ok);
  return ok ? val(to_hex(sha256(in))) : invalid_bytes();
}

val sha256_sri(val bytes) {
  bool ok = false;
  const ByteView in = copy_in(bytes, ok);
  return ok ? val(to_sri(sha256(in))) : invalid_bytes();
}

// Null when the content hash is neither hex nor SRI.
val resource_id(std::string canonical_url, std::string content_hash) {
  auto d = digest_from_text(content_hash);
  return d ? val(to_hex(resource_id_for(canonical_url, *d))) : val::null();
}

// "sha256-..." <-> hex, for manifests that use either form. Null if malformed.
val sri_to_hex(std::string sri) {
  auto d = digest_from_sri(sri);
  return d ? val(to_hex(*d)) : val::null();
}

val hex_to_sri(std::string hex) {
  auto d = digest_from_hex(hex);
  return d ? val(to_sri(*d)) : val::null();
}

val encode_frame_js(val object) {
  std::vector<uint8_t> payload;
  auto frame = frame_from_js(object, payload);
  if (!frame) return error_value(frame.error());
  auto bytes = encode_frame(frame.value());
  return bytes ? copy_out(ByteView(bytes.value())) : error_value(bytes.error());
}

val decode_frame_js(val bytes, double max_message_size) {
  bool ok = false;
  const ByteView in = copy_in(bytes, ok);
  if (!ok) return invalid_bytes();
  auto frame = decode_frame(in, static_cast<size_t>(max_message_size));
  return frame ? frame_to_js(frame.value()) : error_value(frame.error());
}

val encode_signal_js(val object) {
  auto message = signal_from_js(object);
  if (!message) return error_value(message.error());
  auto bytes = encode_signal(message.value());
  return bytes ? copy_out(ByteView(bytes.value())) : error_value(bytes.error());
}

val decode_signal_js(val bytes, double max_message_size) {
  bool ok = false;
  const ByteView in = copy_in(bytes, ok);
  if (!ok) return invalid_bytes();
  auto message = decode_signal(in, static_cast<size_t>(max_message_size));
  return message ? signal_to_js(message.value()) : error_value(message.error());
}

// The 20-byte DATA header; the sender places the payload right behind it.
val data_header(uint32_t request_id, double offset, uint32_t payload_size) {
  uint8_t header[kDataHeaderSize];
  write_data_header(header, request_id, static_cast<uint64_t>(offset), payload_size);
  return copy_out(ByteView(header, sizeof header));
}

uint32_t payload_capacity(uint32_t max_message_size) {
  return DataChunker(0, 0, 1, max_message_size).payload_capacity();
}

// Most pieces one HAVE_PIECES can describe at this message size.
uint32_t max_have_pieces_js(uint32_t max_message_size) {
  return max_have_pieces(max_message_size);
}

uint32_t negotiated_size(uint32_t local, uint32_t remote) {
  return negotiated_message_size(Hello{kWireVersion, local, 0}, Hello{kWireVersion, remote, 0});
}

class Sha256Stream {
 public:
  val update(val bytes) {
    bool ok = false;
    const ByteView in = copy_in(bytes, ok);
    if (!ok) return invalid_bytes();
    hash_.update(in);
    return val::null();
  }
  std::string finish_hex() { return to_hex(hash_.finish()); }
  std::string finish_sri() { return to_sri(hash_.finish()); }

 private:
  Sha256 hash_;
};

const char* outcome_name(ChunkOutcome o) {
  switch (o) {
    case ChunkOutcome::kAccepted:
      return "accepted";
    case ChunkOutcome::kDuplicate:
      return "duplicate";
    case ChunkOutcome::kComplete:
      return "complete";
  }
  return "accepted";
}

AssemblerLimits limits_from(const val& o) {
  AssemblerLimits l;
  if (o.isUndefined() || o.isNull()) return l;
  if (auto v = number_field(o, "maxTotalBytes"); v && *v > 0)
    l.max_total_bytes = static_cast<uint64_t>(*v);
  if (auto v = number_field(o, "maxFragments"); v && *v > 0)
    l.max_fragments = static_cast<size_t>(*v);
  if (auto v = number_field(o, "maxRequests"); v && *v > 0)
    l.max_requests = static_cast<size_t>(*v);
  if (auto v = number_field(o, "firstByteTimeoutMs"); v && *v > 0)
    l.first_byte_timeout_ms = static_cast<uint64_t>(*v);
  if (auto v = number_field(o, "minBytesPerSecond"); v && *v >= 0)
    l.min_bytes_per_second = static_cast<uint64_t>(*v);
  if (auto v = number_field(o, "rateWindowMs"); v && *v > 0)
    l.rate_window_ms = static_cast<uint64_t>(*v);
  return l;
}

class JsChunkAssembler {
 public:
  explicit JsChunkAssembler(val limits) : assembler_(limits_from(limits)) {}

  // owner: the handle of the peer the request goes to; only its DATA is accepted.
  // expected: "sha256-<base64>", 64 hex digits, or "" for no verification.
  val begin(uint32_t request_id, uint32_t owner, double offset, double length, std::string expected,
            double now) {
    RequestShape shape{static_cast<uint64_t>(offset), static_cast<uint64_t>(length), std::nullopt};
    if (!(offset >= 0) || !(length > 0)) return error_value(Errc::kBadField);
    if (!expected.empty()) {
      shape.expected_hash = digest_from_text(expected);
      if (!shape.expected_hash) return error_value(Errc::kBadField);
    }
    const Errc e = assembler_.begin(request_id, owner, shape, static_cast<uint64_t>(now));
    return e == Errc::kOk ? val::null() : error_value(e);
  }

  // One data-channel message from peer `from`: DATA goes into its request's buffer; any
  // other frame comes back decoded as {frame}. One boundary crossing per message either way.
  val receive(val bytes, double now, double max_message_size, uint32_t from) {
    bool ok = false;
    const ByteView in = copy_in(bytes, ok);
    if (!ok) return invalid_bytes();
    auto frame = decode_frame(in, static_cast<size_t>(max_message_size));
    if (!frame) return error_value(frame.error());
    const Data* data = std::get_if<Data>(&frame.value());
    val o = val::object();
    if (data == nullptr) {
      o.set("frame", frame_to_js(frame.value()));
      return o;
    }
    auto r = assembler_.add(from, data->request_id, data->offset, data->payload,
                            static_cast<uint64_t>(now));
    if (!r)
      o = error_value(r.error());
    else
      o.set("outcome", outcome_name(r.value()));
    o.set("requestId", data->request_id);
    o.set("bytes", static_cast<double>(data->payload.size));
    return o;
  }

  // A view of the verified body in Wasm memory: read or copy it before the next call that
  // may allocate. Null until complete.
  val body(uint32_t request_id) {
    auto b = assembler_.body(request_id);
    if (!b) return val::null();
    return val(emscripten::typed_memory_view(b->size, b->data));
  }

  // The start of a cut-off transfer, preloaded before its owner is asked for the rest.
  // Null on success, else {error}.
  val preload(uint32_t request_id, val bytes) {
    bool ok = false;
    const ByteView in = copy_in(bytes, ok);
    if (!ok) return invalid_bytes();
    const Errc e = assembler_.preload(request_id, in);
    return e == Errc::kOk ? val::null() : error_value(e);
  }

  // A view of the contiguous bytes received from the range's start (copy it before the next
  // call that may allocate); null for an unknown request.
  val prefix(uint32_t request_id) {
    auto b = assembler_.prefix(request_id);
    if (!b) return val::null();
    return val(emscripten::typed_memory_view(b->size, b->data));
  }

  val progress(uint32_t request_id) {
    auto p = assembler_.progress(request_id);
    if (!p) return val::null();
    val o = val::object();
    o.set("received", static_cast<double>(p->received));
    o.set("hashedUpto", static_cast<double>(p->hashed_upto));
    o.set("length", static_cast<double>(p->length));
    return o;
  }

  void release(uint32_t request_id) { assembler_.release(request_id); }

  val expire(double now) {
    val list = val::array();
    for (const Expired& e : assembler_.expire(static_cast<uint64_t>(now))) {
      val o = val::object();
      o.set("requestId", e.request_id);
      o.set("owner", e.owner);
      o.set("reason", error_name(e.reason));
      o.set("bytesPerSecond", static_cast<double>(e.bytes_per_second));
      list.call<void>("push", o);
    }
    return list;
  }

  double bytes_allocated() const { return static_cast<double>(assembler_.bytes_allocated()); }
  double open_requests() const { return static_cast<double>(assembler_.open_requests()); }

 private:
  ChunkAssembler assembler_;
};

class JsPeerSelector {
 public:
  JsPeerSelector(double seed, double jitter)
      : selector_(static_cast<uint64_t>(seed), jitter >= 0 ? jitter : 0.2) {}

  val pick(val holders, double bytes, uint32_t k) {
    std::vector<PeerHandle> list;
    if (holders.isArray()) {
      const auto n = holders["length"].as<unsigned>();
      for (unsigned i = 0; i < n; ++i) {
        val h = holders[i];
        if (h.isNumber()) list.push_back(h.as<uint32_t>());
      }
    }
    val out = val::array();
    for (PeerHandle h : selector_.pick(list, static_cast<uint64_t>(bytes), k))
      out.call<void>("push", h);
    return out;
  }
  void on_rtt(uint32_t h, double ms) { selector_.score(h).on_rtt(ms); }
  void on_transfer(uint32_t h, double bytes, double ms) {
    selector_.score(h).on_transfer(static_cast<uint64_t>(bytes), ms);
  }
  void on_request_start(uint32_t h) { selector_.score(h).on_request_start(); }
  void on_request_end(uint32_t h) { selector_.score(h).on_request_end(); }
  void on_failure(uint32_t h) { selector_.score(h).on_failure(); }
  void on_success(uint32_t h) { selector_.score(h).on_success(); }
  void ban(uint32_t h) { selector_.score(h).ban(); }
  void forget(uint32_t h) { selector_.forget(h); }
  val stats(uint32_t h) {
    const PeerScore* s = selector_.find(h);
    if (s == nullptr) return val::null();
    val o = val::object();
    o.set("rttMs", s->rtt_ms());
    o.set("bytesPerMs", s->bytes_per_ms());
    o.set("inFlight", s->in_flight());
    o.set("failures", s->failures());
    o.set("banned", s->banned());
    o.set("usable", s->usable());
    return o;
  }

 private:
  PeerSelector selector_;
};

// A JS number as a whole count or size; anything else (NaN, negative, fraction, past 2^53)
// is 0, which the scheduler refuses as a layout.
uint64_t whole(double x) {
  return x >= 0 && x <= 9007199254740991.0 && x == std::floor(x) ? static_cast<uint64_t>(x) : 0;
}

uint32_t piece_count_from(double x) {
  const uint64_t n = whole(x);
  return n <= kMaxPieceCount ? static_cast<uint32_t>(n) : 0;
}

// A JS number as a piece index; anything that is not one lies past every file's end.
uint32_t piece_index(double x) {
  return x >= 0 && x <= 4294967295.0 ? static_cast<uint32_t>(x) : 0xFFFFFFFF;
}

// performance.now() and the like; NaN or negative clocks count as 0.
uint64_t ms(double now) {
  return now > 0 && now <= 9007199254740991.0 ? static_cast<uint64_t>(now) : 0;
}

PieceSchedulerLimits piece_limits_from(const val& o) {
  PieceSchedulerLimits l;
  if (o.isUndefined() || o.isNull()) return l;
  if (auto v = number_field(o, "maxInFlightPerPeer"); v && *v >= 1)
    l.max_in_flight_per_peer = static_cast<size_t>(whole(*v));
  if (auto v = number_field(o, "targetQueueMs"); v && *v > 0) l.target_queue_ms = ms(*v);
  if (auto v = number_field(o, "maxCopies"); v && *v >= 1)
    l.max_copies = static_cast<size_t>(whole(*v));
  if (auto v = number_field(o, "maxFailuresPerPeer"); v && *v >= 1)
    l.max_failures_per_peer = static_cast<size_t>(whole(*v));
  return l;
}

class JsPieceScheduler {
 public:
  JsPieceScheduler(double piece_count, double piece_size, double file_size)
      : JsPieceScheduler(piece_count, piece_size, file_size, val::undefined()) {}
  // pieceCount() is 0 afterwards when the three do not describe one file.
  JsPieceScheduler(double piece_count, double piece_size, double file_size, val limits)
      : scheduler_(piece_count_from(piece_count), whole(piece_size), whole(file_size),
                   piece_limits_from(limits)) {}

  void need(double first, double last) { scheduler_.need(piece_index(first), piece_index(last)); }
  val have(double piece) { return u32_array(scheduler_.have(piece_index(piece))); }
  void need_again(double piece) { scheduler_.need_again(piece_index(piece)); }
  void add_peer(uint32_t peer) { scheduler_.add_peer(peer); }
  // '' when taken; an error name ('bad-length', 'bad-field') when refused.
  std::string set_pieces(uint32_t peer, val bytes) {
    bool ok = false;
    const ByteView in = copy_in(bytes, ok);
    return error_name_or_empty(ok ? scheduler_.set_pieces(peer, in) : Errc::kBadField);
  }
  val remove_peer(uint32_t peer) { return u32_array(scheduler_.remove_peer(peer)); }
  // A piece index, or -1.
  int next(uint32_t peer, double now) {
    auto piece = scheduler_.next(peer, ms(now));
    return piece ? static_cast<int>(*piece) : -1;
  }
  val done(uint32_t peer, double piece, double now) {
    return u32_array(scheduler_.done(peer, piece_index(piece), ms(now)));
  }
  // True when this failure dropped the peer for the file.
  bool failed(uint32_t peer, double piece, double now) {
    return scheduler_.failed(peer, piece_index(piece), ms(now));
  }
  void cancel(uint32_t peer, double piece) { scheduler_.cancel(peer, piece_index(piece)); }
  val orphans() const { return u32_array(scheduler_.orphans()); }
  bool complete() const { return scheduler_.complete(); }
  double piece_count() const { return scheduler_.piece_count(); }
  double piece_bytes(double piece) const {
    return static_cast<double>(scheduler_.piece_bytes(piece_index(piece)));
  }
  val peer_stats(uint32_t peer) const {
    auto s = scheduler_.peer_stats(peer);
    if (!s) return val::null();
    val o = val::object();
    o.set("pieces", static_cast<double>(s->pieces_done));
    o.set("bytes", static_cast<double>(s->bytes_done));
    o.set("rateBytesPerMs", s->rate_bytes_per_ms);
    o.set("inFlight", static_cast<double>(s->in_flight));
    o.set("failures", static_cast<double>(s->failures));
    o.set("dropped", s->dropped);
    return o;
  }

 private:
  static std::string error_name_or_empty(Errc e) { return e == Errc::kOk ? "" : error_name(e); }

  PieceScheduler scheduler_;
};

std::optional<PeerOffense> offense_from(const std::string& name) {
  for (uint8_t i = 1; i <= static_cast<uint8_t>(PeerOffense::kConnectFailed); ++i) {
    const auto o = static_cast<PeerOffense>(i);
    if (name == offense_name(o)) return o;
  }
  return std::nullopt;
}

class JsPeerReputation {
 public:
  void on_delivered(std::string peer, double bytes, double now) {
    if (bytes > 0)
      rep_.on_delivered(peer, static_cast<uint64_t>(bytes), static_cast<uint64_t>(now));
  }
  // An unknown offense name is a bug in the caller: {error} rather than a silent no-op.
  val on_offense(std::string peer, std::string offense, double now) {
    const auto o = offense_from(offense);
    if (!o) return error_value(Errc::kBadField);
    return val(rep_.on_offense(peer, *o, static_cast<uint64_t>(now)));
  }
  bool banned(std::string peer) const { return rep_.banned(peer); }
  bool usable(std::string peer) const { return rep_.usable(peer); }
  val record(std::string peer) const {
    const PeerRecord* r = rep_.find(peer);
    if (r == nullptr) return val::null();
    val o = val::object();
    o.set("deliveredBytes", static_cast<double>(r->delivered_bytes));
    o.set("strikes", r->strikes);
    o.set("connectFailures", r->connect_failures);
    o.set("bannedFor",
          r->banned_for == PeerOffense::kNone ? val::null() : val(offense_name(r->banned_for)));
    return o;
  }
  val rank(val peers) const {
    std::vector<std::string> list;
    if (peers.isArray()) {
      const auto n = peers["length"].as<unsigned>();
      for (unsigned i = 0; i < n; ++i) {
        val p = peers[i];
        if (p.isString()) list.push_back(p.as<std::string>());
      }
    }
    val out = val::array();
    for (const std::string& p : rep_.rank(list)) out.call<void>("push", p);
    return out;
  }
  std::string save() const { return rep_.save(); }
  void load(std::string text, double now) { rep_.load(text, static_cast<uint64_t>(now)); }
  double size() const { return static_cast<double>(rep_.size()); }

 private:
  PeerReputation rep_;
};

}  // namespace
}  // namespace p2pcdn::js

EMSCRIPTEN_BINDINGS(p2pcdn_core) {
  using namespace emscripten;
  using namespace p2pcdn::js;
  constant("wireVersion", p2pcdn::kWireVersion);
  constant("minMessageSize", p2pcdn::kMinMessageSize);
  constant("defaultMaxMessageSize", p2pcdn::kDefaultMaxMessageSize);
  constant("dataHeaderSize", static_cast<uint32_t>(p2pcdn::kDataHeaderSize));
  constant("capByteRanges", p2pcdn::kCapByteRanges);
  constant("capPieces", p2pcdn::kCapPieces);
  constant("maxPieceCount", p2pcdn::kMaxPieceCount);
  function("sha256Hex", &sha256_hex);
  function("sha256Sri", &sha256_sri);
  function("resourceId", &resource_id);
  function("sriToHex", &sri_to_hex);
  function("hexToSri", &hex_to_sri);
  function("encodeFrame", &encode_frame_js);
  function("decodeFrame", &decode_frame_js);
  function("encodeSignal", &encode_signal_js);
  function("decodeSignal", &decode_signal_js);
  function("dataHeader", &data_header);
  function("payloadCapacity", &payload_capacity);
  function("negotiatedMessageSize", &negotiated_size);
  // The Wasm heap's size: what bodies being reassembled have made it grow to (it never shrinks).
  function("heapBytes",
           optional_override([]() { return static_cast<double>(emscripten_get_heap_size()); }));
  function("maxHavePieces", &max_have_pieces_js);

  class_<Sha256Stream>("Sha256Stream")
      .constructor<>()
      .function("update", &Sha256Stream::update)
      .function("finishHex", &Sha256Stream::finish_hex)
      .function("finishSri", &Sha256Stream::finish_sri);

  class_<JsChunkAssembler>("ChunkAssembler")
      .constructor<val>()
      .function("begin", &JsChunkAssembler::begin)
      .function("receive", &JsChunkAssembler::receive)
      .function("body", &JsChunkAssembler::body)
      .function("preload", &JsChunkAssembler::preload)
      .function("prefix", &JsChunkAssembler::prefix)
      .function("progress", &JsChunkAssembler::progress)
      .function("release", &JsChunkAssembler::release)
      .function("expire", &JsChunkAssembler::expire)
      .function("bytesAllocated", &JsChunkAssembler::bytes_allocated)
      .function("openRequests", &JsChunkAssembler::open_requests);

  class_<JsPeerReputation>("PeerReputation")
      .constructor<>()
      .function("onDelivered", &JsPeerReputation::on_delivered)
      .function("onOffense", &JsPeerReputation::on_offense)
      .function("banned", &JsPeerReputation::banned)
      .function("usable", &JsPeerReputation::usable)
      .function("record", &JsPeerReputation::record)
      .function("rank", &JsPeerReputation::rank)
      .function("save", &JsPeerReputation::save)
      .function("load", &JsPeerReputation::load)
      .function("size", &JsPeerReputation::size);

  class_<JsPeerSelector>("PeerSelector")
      .constructor<double, double>()
      .function("pick", &JsPeerSelector::pick)
      .function("onRtt", &JsPeerSelector::on_rtt)
      .function("onTransfer", &JsPeerSelector::on_transfer)
      .function("onRequestStart", &JsPeerSelector::on_request_start)
      .function("onRequestEnd", &JsPeerSelector::on_request_end)
      .function("onFailure", &JsPeerSelector::on_failure)
      .function("onSuccess", &JsPeerSelector::on_success)
      .function("ban", &JsPeerSelector::ban)
      .function("forget", &JsPeerSelector::forget)
      .function("stats", &JsPeerSelector::stats);

  class_<JsPieceScheduler>("PieceScheduler")
      .constructor<double, double, double>()
      .constructor<double, double, double, val>()
      .function("need", &JsPieceScheduler::need)
      .function("have", &JsPieceScheduler::have)
      .function("needAgain", &JsPieceScheduler::need_again)
      .function("addPeer", &JsPieceScheduler::add_peer)
      .function("setPieces", &JsPieceScheduler::set_pieces)
      .function("removePeer", &JsPieceScheduler::remove_peer)
      .function("next", &JsPieceScheduler::next)
      .function("done", &JsPieceScheduler::done)
      .function("failed", &JsPieceScheduler::failed)
      .function("cancel", &JsPieceScheduler::cancel)
      .function("orphans", &JsPieceScheduler::orphans)
      .function("complete", &JsPieceScheduler::complete)
      .function("pieceCount", &JsPieceScheduler::piece_count)
      .function("pieceBytes", &JsPieceScheduler::piece_bytes)
      .function("peerStats", &JsPieceScheduler::peer_stats);
}
