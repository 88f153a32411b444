#include "p2pcdn/frame.hpp"

#include <algorithm>

#include "overloaded.hpp"
#include "p2pcdn/envelope.hpp"

namespace p2pcdn {
namespace {

constexpr size_t kResourceIdSize = std::tuple_size<ResourceId>::value;

void write_body(ByteWriter& w, const Frame& frame) {
  std::visit(Overloaded{
                 [&](const Hello& f) {
                   w.u8(f.max_version);
                   w.u8(0);
                   w.u16(0);
                   w.u32(f.max_message_size);
                   w.u32(f.capabilities);
                 },
                 [&](const Have& f) {
                   w.u8(static_cast<uint8_t>(f.op));
                   w.u8(0);
                   w.u16(static_cast<uint16_t>(f.ids.size()));
                   for (const auto& id : f.ids) w.array(id);
                 },
                 [&](const Request& f) {
                   w.u32(f.request_id);
                   w.array(f.resource);
                   w.array(f.content_hash);
                   w.u64(f.offset);
                   w.u64(f.length);
                 },
                 [&](const ResponseHead& f) {
                   w.u32(f.request_id);
                   w.u64(f.total_size);
                   w.u16(static_cast<uint16_t>(f.headers.size()));
                   w.bytes(reinterpret_cast<const uint8_t*>(f.headers.data()), f.headers.size());
                 },
                 [&](const Data& f) {
                   w.u32(f.request_id);
                   w.u64(f.offset);
                   w.bytes(f.payload.data, f.payload.size);
                 },
                 [&](const Cancel& f) { w.u32(f.request_id); },
                 [&](const NotFound& f) { w.u32(f.request_id); },
                 [&](const ErrorFrame& f) {
                   w.u32(f.request_id);
                   w.u16(f.code);
                   w.u16(static_cast<uint16_t>(f.message.size()));
                   w.bytes(reinterpret_cast<const uint8_t*>(f.message.data()), f.message.size());
                 },
                 [&](const Ping& f) {
                   w.u32(f.nonce);
                   w.u64(f.sent_at_ms);
                 },
                 [&](const Pong& f) {
                   w.u32(f.nonce);
                   w.u64(f.sent_at_ms);
                 },
                 [&](const HavePieces& f) {
                   w.array(f.resource);
                   w.u32(f.piece_count);
                   w.bytes(f.bitfield.data(), f.bitfield.size());
                 },
             },
             frame);
}

// Every decoder reads its fields, then requires the reader to have consumed the body
// exactly: short bodies are truncated, long ones have a bad length.
template <class T>
Result<Frame> finish(const ByteReader& r, T frame) {
  if (r.failed()) return Errc::kTruncated;
  if (r.remaining() != 0) return Errc::kBadLength;
  return Frame{std::move(frame)};
}

Result<Frame> decode_hello(ByteReader& r) {
  Hello f;
  f.max_version = r.u8();
  const uint8_t reserved8 = r.u8();
  const uint16_t reserved16 = r.u16();
  f.max_message_size = r.u32();
  f.capabilities = r.u32();
  if (!r.failed() && (reserved8 != 0 || reserved16 != 0 || f.max_version < kWireVersion ||
                      f.max_message_size < kMinMessageSize)) {
    return Errc::kBadField;
  }
  return finish(r, f);
}

Result<Frame> decode_have(ByteReader& r) {
  Have f;
  const uint8_t op = r.u8();
  const uint8_t reserved = r.u8();
  const uint16_t count = r.u16();
  if (r.failed()) return Errc::kTruncated;
  if (op > static_cast<uint8_t>(HaveOp::kReplace) || reserved != 0) return Errc::kBadField;
  if (r.remaining() != size_t{count} * kResourceIdSize) return Errc::kBadLength;
  f.op = static_cast<HaveOp>(op);
  f.ids.reserve(count);
  for (uint16_t i = 0; i < count; ++i) f.ids.push_back(r.array<kResourceIdSize>());
  return finish(r, std::move(f));
}

Result<Frame> decode_request(ByteReader& r) {
  Request f;
  f.request_id = r.u32();
  f.resource = r.array<kResourceIdSize>();
  f.content_hash = r.array<kResourceIdSize>();
  f.offset = r.u64();
  f.length = r.u64();
  if (!r.failed() && (f.length == 0 || (f.length != kToEnd && f.offset + f.length < f.offset))) {
    return Errc::kBadField;
  }
  return finish(r, f);
}

Result<Frame> decode_response_head(ByteReader& r) {
  ResponseHead f;
  f.request_id = r.u32();
  f.total_size = r.u64();
  const uint16_t length = r.u16();
  if (!r.failed() && length > kMaxHeaderBlock) return Errc::kOversize;
  f.headers = r.string(length);
  return finish(r, std::move(f));
}

Result<Frame> decode_data(ByteReader& r) {
  Data f;
  f.request_id = r.u32();
  f.offset = r.u64();
  if (r.failed()) return Errc::kTruncated;
  if (r.remaining() == 0) return Errc::kBadField;  // an empty chunk makes no progress
  f.payload = r.view(r.remaining());
  return finish(r, f);
}

Result<Frame> decode_error(ByteReader& r) {
  ErrorFrame f;
  f.request_id = r.u32();
  f.code = r.u16();
  const uint16_t length = r.u16();
  if (!r.failed() && length > kMaxErrorText) return Errc::kOversize;
  f.message = r.string(length);
  return finish(r, std::move(f));
}

template <class T>
Result<Frame> decode_request_ref(ByteReader& r) {
  T f;
  f.request_id = r.u32();
  return finish(r, f);
}

template <class T>
Result<Frame> decode_ping(ByteReader& r) {
  T f;
  f.nonce = r.u32();
  f.sent_at_ms = r.u64();
  return finish(r, f);
}

// A bit past the last piece would name a piece that does not exist.
bool spare_bits_clear(uint32_t piece_count, ByteView bitfield) {
  const uint32_t used = piece_count % 8;
  return used == 0 || (bitfield.data[bitfield.size - 1] & (0xFFu >> used)) == 0;
}

Result<Frame> decode_have_pieces(ByteReader& r) {
  HavePieces f;
  f.resource = r.array<kResourceIdSize>();
  f.piece_count = r.u32();
  if (r.failed()) return Errc::kTruncated;
  if (f.piece_count == 0 || f.piece_count > kMaxPieceCount) return Errc::kBadField;
  const size_t size = piece_bitfield_size(f.piece_count);
  if (r.remaining() < size) return Errc::kTruncated;
  if (r.remaining() > size) return Errc::kBadLength;
  const ByteView bits = r.view(size);
  if (!spare_bits_clear(f.piece_count, bits)) return Errc::kBadField;
  f.bitfield.assign(bits.data, bits.data + bits.size);
  return finish(r, std::move(f));
}

bool fits_fields(const Frame& frame) {
  if (auto* have = std::get_if<Have>(&frame)) return have->ids.size() <= 0xFFFF;
  if (auto* head = std::get_if<ResponseHead>(&frame))
    return head->headers.size() <= kMaxHeaderBlock;
  if (auto* error = std::get_if<ErrorFrame>(&frame)) return error->message.size() <= kMaxErrorText;
  return true;
}

}  // namespace

static_assert(std::variant_size_v<Frame> == static_cast<size_t>(FrameType::kHavePieces),
              "Frame alternatives follow FrameType order");

FrameType frame_type(const Frame& frame) {
  return static_cast<FrameType>(frame.index() + 1);
}

Result<std::vector<uint8_t>> encode_frame(const Frame& frame) {
  if (!fits_fields(frame)) return Errc::kOversize;
  if (auto* pieces = std::get_if<HavePieces>(&frame)) {
    const Errc e = check_piece_bitfield(pieces->piece_count, ByteView(pieces->bitfield));
    if (e != Errc::kOk) return e;
  }
  std::vector<uint8_t> out;
  const size_t header = start_envelope(out, kWireVersion, static_cast<uint8_t>(frame_type(frame)));
  ByteWriter w(out);
  write_body(w, frame);
  finish_envelope(out, header);
  return out;
}

Result<Frame> decode_frame(ByteView message, size_t max_message_size) {
  auto envelope = open_envelope(message, kWireVersion, max_message_size);
  if (!envelope) return envelope.error();
  ByteReader r(envelope->body);
  switch (static_cast<FrameType>(envelope->type)) {
    case FrameType::kHello:
      return decode_hello(r);
    case FrameType::kHave:
      return decode_have(r);
    case FrameType::kRequest:
      return decode_request(r);
    case FrameType::kResponseHead:
      return decode_response_head(r);
    case FrameType::kData:
      return decode_data(r);
    case FrameType::kCancel:
      return decode_request_ref<Cancel>(r);
    case FrameType::kNotFound:
      return decode_request_ref<NotFound>(r);
    case FrameType::kError:
      return decode_error(r);
    case FrameType::kPing:
      return decode_ping<Ping>(r);
    case FrameType::kPong:
      return decode_ping<Pong>(r);
    case FrameType::kHavePieces:
      return decode_have_pieces(r);
  }
  return Errc::kUnknownType;
}

void write_data_header(uint8_t* out, uint32_t request_id, uint64_t offset, uint32_t payload_size) {
  write_envelope(out, kWireVersion, static_cast<uint8_t>(FrameType::kData), 12 + payload_size);
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(request_id >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) out[12 + i] = static_cast<uint8_t>(offset >> (56 - 8 * i));
}

uint32_t negotiated_message_size(const Hello& local, const Hello& remote) {
  return std::max(kMinMessageSize, std::min(local.max_message_size, remote.max_message_size));
}

size_t max_have_ids(size_t max_message_size) {
  const size_t fit = (max_message_size - kEnvelopeSize - 4) / kResourceIdSize;
  return std::min<size_t>(fit, 0xFFFF);
}

Errc check_piece_bitfield(uint32_t piece_count, ByteView bitfield) {
  if (piece_count == 0 || piece_count > kMaxPieceCount) return Errc::kBadField;
  if (bitfield.size != piece_bitfield_size(piece_count)) return Errc::kBadLength;
  return spare_bits_clear(piece_count, bitfield) ? Errc::kOk : Errc::kBadField;
}

uint32_t max_have_pieces(size_t max_message_size) {
  const size_t header = kEnvelopeSize + kResourceIdSize + 4;
  if (max_message_size <= header) return 0;
  const size_t fit = (max_message_size - header) * 8;
  return static_cast<uint32_t>(std::min<size_t>(fit, kMaxPieceCount));
}

}  // namespace p2pcdn
