#include "p2pcdn/frame.hpp"

#include <gtest/gtest.h>

#include "p2pcdn/envelope.hpp"

namespace p2pcdn {
namespace {

ResourceId id_of(uint8_t seed) {
  ResourceId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed + i);
  return id;
}

std::vector<uint8_t> encoded(const Frame& frame) {
  auto bytes = encode_frame(frame);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
}

template <class T>
T round_trip(const T& frame) {
  const auto bytes = encoded(frame);
  auto decoded = decode_frame(bytes);
  EXPECT_TRUE(decoded.ok()) << describe(decoded.error());
  EXPECT_TRUE(std::holds_alternative<T>(decoded.value()));
  return std::get<T>(decoded.value());
}

TEST(Frame, HelloRoundTrip) {
  Hello f{1, 64 * 1024, kCapByteRanges | (1u << 7)};
  Hello g = round_trip(f);
  EXPECT_EQ(g.max_version, 1);
  EXPECT_EQ(g.max_message_size, 64u * 1024);
  EXPECT_EQ(g.capabilities, f.capabilities);
}

TEST(Frame, HaveRoundTrip) {
  Have f{HaveOp::kReplace, {id_of(1), id_of(50), id_of(200)}};
  Have g = round_trip(f);
  EXPECT_EQ(g.op, HaveOp::kReplace);
  EXPECT_EQ(g.ids, f.ids);
  EXPECT_TRUE(round_trip(Have{HaveOp::kRemove, {}}).ids.empty());
}

TEST(Frame, RequestRoundTrip) {
  Request f{0xDEADBEEF, id_of(3), id_of(9), 1ull << 40, 12345};
  Request g = round_trip(f);
  EXPECT_EQ(g.request_id, f.request_id);
  EXPECT_EQ(g.resource, f.resource);
  EXPECT_EQ(g.content_hash, f.content_hash);
  EXPECT_EQ(g.offset, f.offset);
  EXPECT_EQ(g.length, f.length);
  EXPECT_EQ(round_trip(Request{1, id_of(0), id_of(0), 0, kToEnd}).length, kToEnd);
}

TEST(Frame, ResponseHeadRoundTrip) {
  ResponseHead f{7, 20u << 20, "content-type: image/png\ncache-control: max-age=60\n"};
  ResponseHead g = round_trip(f);
  EXPECT_EQ(g.request_id, 7u);
  EXPECT_EQ(g.total_size, 20u << 20);
  EXPECT_EQ(g.headers, f.headers);
}

TEST(Frame, DataRoundTripIsAViewIntoTheMessage) {
  std::vector<uint8_t> payload(1000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
  const auto bytes = encoded(Data{42, 1ull << 33, ByteView(payload)});
  ASSERT_EQ(bytes.size(), kDataHeaderSize + payload.size());
  auto decoded = decode_frame(bytes);
  ASSERT_TRUE(decoded.ok());
  const Data& d = std::get<Data>(decoded.value());
  EXPECT_EQ(d.request_id, 42u);
  EXPECT_EQ(d.offset, 1ull << 33);
  EXPECT_EQ(d.payload.data, bytes.data() + kDataHeaderSize);
  EXPECT_EQ(std::vector<uint8_t>(d.payload.data, d.payload.data + d.payload.size), payload);
}

TEST(Frame, WriteDataHeaderMatchesEncoder) {
  std::vector<uint8_t> payload(33, 0xAB);
  auto via_encoder = encoded(Data{9, 777, ByteView(payload)});
  std::vector<uint8_t> via_header(kDataHeaderSize + payload.size());
  write_data_header(via_header.data(), 9, 777, static_cast<uint32_t>(payload.size()));
  std::copy(payload.begin(), payload.end(), via_header.begin() + kDataHeaderSize);
  EXPECT_EQ(via_encoder, via_header);
}

TEST(Frame, SmallFramesRoundTrip) {
  EXPECT_EQ(round_trip(Cancel{5}).request_id, 5u);
  EXPECT_EQ(round_trip(NotFound{6}).request_id, 6u);
  ErrorFrame e = round_trip(ErrorFrame{8, static_cast<uint16_t>(WireError::kBusy), "busy"});
  EXPECT_EQ(e.request_id, 8u);
  EXPECT_EQ(e.code, static_cast<uint16_t>(WireError::kBusy));
  EXPECT_EQ(e.message, "busy");
  Ping p = round_trip(Ping{11, 123456789012ull});
  EXPECT_EQ(p.nonce, 11u);
  EXPECT_EQ(p.sent_at_ms, 123456789012ull);
  Pong q = round_trip(Pong{12, 99});
  EXPECT_EQ(q.nonce, 12u);
  EXPECT_EQ(q.sent_at_ms, 99u);
}

TEST(Frame, TypeOfEachAlternative) {
  EXPECT_EQ(frame_type(Hello{}), FrameType::kHello);
  EXPECT_EQ(frame_type(Data{}), FrameType::kData);
  EXPECT_EQ(frame_type(Pong{}), FrameType::kPong);
  EXPECT_EQ(frame_type(HavePieces{}), FrameType::kHavePieces);
  EXPECT_EQ(encoded(Pong{})[1], static_cast<uint8_t>(FrameType::kPong));
  EXPECT_EQ(encoded(HavePieces{id_of(1), 1, {0x80}})[1], 11);
}

// --- HAVE_PIECES ---

HavePieces have_pieces(uint32_t count, std::initializer_list<uint32_t> held) {
  HavePieces f{id_of(4), count, std::vector<uint8_t>(piece_bitfield_size(count))};
  for (uint32_t i : held) f.bitfield[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return f;
}

// An encoded HAVE_PIECES with its count field and bitfield replaced as they are, wrong or not.
std::vector<uint8_t> raw_have_pieces(uint32_t count, const std::vector<uint8_t>& bitfield) {
  auto bytes = encoded(HavePieces{id_of(4), 1, {0}});
  bytes.resize(kEnvelopeSize + 32);
  for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<uint8_t>(count >> (8 * i)));
  bytes.insert(bytes.end(), bitfield.begin(), bitfield.end());
  write_envelope(bytes.data(), kWireVersion, bytes[1], static_cast<uint32_t>(bytes.size() - 8));
  return bytes;
}

TEST(Frame, HavePiecesRoundTrip) {
  for (uint32_t count : {1u, 7u, 8u, 9u, 1000u, kMaxPieceCount}) {
    HavePieces f = have_pieces(count, {0, count / 2, count - 1});
    const auto bytes = encoded(f);
    EXPECT_EQ(bytes.size(), kEnvelopeSize + 32 + 4 + (count + 7) / 8);
    HavePieces g = round_trip(f);
    EXPECT_EQ(g.resource, f.resource);
    EXPECT_EQ(g.piece_count, count);
    EXPECT_EQ(g.bitfield, f.bitfield);
  }
  // MSB first: piece 0 is 0x80 of byte 0, piece 9 is 0x40 of byte 1.
  HavePieces f = have_pieces(10, {0, 9});
  EXPECT_EQ(f.bitfield, (std::vector<uint8_t>{0x80, 0x40}));
  EXPECT_EQ(encoded(f), raw_have_pieces(10, {0x80, 0x40}));
  EXPECT_TRUE(has_piece(ByteView(f.bitfield), 0));
  EXPECT_FALSE(has_piece(ByteView(f.bitfield), 1));
  EXPECT_TRUE(has_piece(ByteView(f.bitfield), 9));
  EXPECT_FALSE(has_piece(ByteView(f.bitfield), 16));  // past the end: not held, not read
  EXPECT_FALSE(has_piece(ByteView(), 0));
}

TEST(FrameMalformed, HavePiecesCount) {
  EXPECT_EQ(decode_frame(raw_have_pieces(0, {})).error(), Errc::kBadField);
  std::vector<uint8_t> too_many(kMaxPieceCount / 8 + 1);
  EXPECT_EQ(decode_frame(raw_have_pieces(kMaxPieceCount + 1, too_many), 1 << 20).error(),
            Errc::kBadField);
  EXPECT_EQ(decode_frame(raw_have_pieces(0xFFFFFFFF, {}), 1 << 20).error(), Errc::kBadField);
}

TEST(FrameMalformed, HavePiecesBitfieldLength) {
  EXPECT_EQ(decode_frame(raw_have_pieces(9, {0xFF})).error(), Errc::kTruncated);
  EXPECT_EQ(decode_frame(raw_have_pieces(9, {})).error(), Errc::kTruncated);
  EXPECT_EQ(decode_frame(raw_have_pieces(9, {0xFF, 0x80, 0})).error(), Errc::kBadLength);
  EXPECT_EQ(decode_frame(raw_have_pieces(8, {0xFF, 0})).error(), Errc::kBadLength);
  // Cut before the count: no field to judge yet.
  auto bytes = raw_have_pieces(8, {0xFF});
  bytes.resize(kEnvelopeSize + 34);
  write_envelope(bytes.data(), kWireVersion, bytes[1], 34);
  EXPECT_EQ(decode_frame(bytes).error(), Errc::kTruncated);
}

TEST(FrameMalformed, HavePiecesSpareBits) {
  EXPECT_TRUE(decode_frame(raw_have_pieces(9, {0xFF, 0x80})).ok());
  EXPECT_EQ(decode_frame(raw_have_pieces(9, {0xFF, 0x40})).error(), Errc::kBadField);
  EXPECT_EQ(decode_frame(raw_have_pieces(9, {0x00, 0x01})).error(), Errc::kBadField);
  EXPECT_EQ(decode_frame(raw_have_pieces(1, {0x81})).error(), Errc::kBadField);
  EXPECT_TRUE(decode_frame(raw_have_pieces(16, {0xFF, 0xFF})).ok());  // no spare bits
}

TEST(FrameMalformed, HavePiecesRespectsTheMessageSize) {
  const uint32_t fits = max_have_pieces(kMinMessageSize);
  EXPECT_EQ(fits, (kMinMessageSize - kEnvelopeSize - 36) * 8);
  EXPECT_EQ(encoded(have_pieces(fits, {})).size(), kMinMessageSize);
  EXPECT_TRUE(decode_frame(encoded(have_pieces(fits, {})), kMinMessageSize).ok());
  EXPECT_EQ(decode_frame(encoded(have_pieces(fits + 1, {})), kMinMessageSize).error(),
            Errc::kOversize);
  // The largest count fits Chromium's 256 KiB.
  EXPECT_EQ(max_have_pieces(kDefaultMaxMessageSize), kMaxPieceCount);
  EXPECT_TRUE(decode_frame(encoded(have_pieces(kMaxPieceCount, {}))).ok());
  EXPECT_EQ(max_have_pieces(kEnvelopeSize + 36), 0u);
  EXPECT_EQ(max_have_pieces(0), 0u);
}

TEST(FrameMalformed, HavePiecesTheDecoderWouldRefuseIsNotEncoded) {
  EXPECT_EQ(encode_frame(HavePieces{id_of(1), 0, {}}).error(), Errc::kBadField);
  EXPECT_EQ(encode_frame(HavePieces{id_of(1), kMaxPieceCount + 1,
                                    std::vector<uint8_t>(kMaxPieceCount / 8 + 1)})
                .error(),
            Errc::kBadField);
  EXPECT_EQ(encode_frame(HavePieces{id_of(1), 9, {0xFF}}).error(), Errc::kBadLength);
  EXPECT_EQ(encode_frame(HavePieces{id_of(1), 9, {0xFF, 0x80, 0}}).error(), Errc::kBadLength);
  EXPECT_EQ(encode_frame(HavePieces{id_of(1), 9, {0xFF, 0xC0}}).error(), Errc::kBadField);
}

// --- malformed frames: each class returns its error and nothing else breaks ---

TEST(FrameMalformed, TruncatedHeader) {
  auto bytes = encoded(Cancel{1});
  for (size_t n = 0; n < kEnvelopeSize; ++n) {
    EXPECT_EQ(decode_frame(ByteView(bytes.data(), n)).error(), Errc::kTruncated) << n;
  }
}

TEST(FrameMalformed, TruncatedBodyOfEveryType) {
  const std::vector<Frame> frames = {Hello{},
                                     Have{HaveOp::kAdd, {id_of(1)}},
                                     Request{},
                                     ResponseHead{1, 2, "a: b\n"},
                                     Cancel{},
                                     NotFound{},
                                     ErrorFrame{1, 2, "x"},
                                     Ping{},
                                     Pong{},
                                     HavePieces{id_of(2), 12, {0xFF, 0xF0}}};
  for (const Frame& f : frames) {
    auto bytes = encoded(f);
    // Cut the body and fix the declared length so only the fields are short.
    bytes.pop_back();
    write_envelope(bytes.data(), kWireVersion, bytes[1], static_cast<uint32_t>(bytes.size() - 8));
    const Errc e = decode_frame(bytes).error();
    EXPECT_TRUE(e == Errc::kTruncated || e == Errc::kBadLength) << int(bytes[1]) << describe(e);
  }
}

TEST(FrameMalformed, DeclaredLengthLongerThanMessageIsTruncated) {
  auto bytes = encoded(Ping{1, 2});
  bytes.resize(bytes.size() - 3);  // length field still says the full body
  EXPECT_EQ(decode_frame(bytes).error(), Errc::kTruncated);
}

TEST(FrameMalformed, WrongVersion) {
  auto bytes = encoded(Ping{});
  bytes[0] = 2;
  EXPECT_EQ(decode_frame(bytes).error(), Errc::kBadVersion);
  bytes[0] = 0;
  EXPECT_EQ(decode_frame(bytes).error(), Errc::kBadVersion);
}

TEST(FrameMalformed, BadLength) {
  auto bytes = encoded(Cancel{1});
  bytes.push_back(0);  // trailing byte the header does not declare
  EXPECT_EQ(decode_frame(bytes).error(), Errc::kBadLength);
  // Header declares the extra byte, but CANCEL is fixed-size.
  write_envelope(bytes.data(), kWireVersion, bytes[1], 5);
  EXPECT_EQ(decode_frame(bytes).error(), Errc::kBadLength);
  // HAVE whose count disagrees with the ids present.
  auto have = encoded(Have{HaveOp::kAdd, {id_of(1), id_of(2)}});
  have[kEnvelopeSize + 3] = 3;
  EXPECT_EQ(decode_frame(have).error(), Errc::kBadLength);
}

TEST(FrameMalformed, UnknownType) {
  auto bytes = encoded(Cancel{1});
  for (uint8_t t : {uint8_t{0}, uint8_t{12}, uint8_t{200}, uint8_t{255}}) {
    bytes[1] = t;
    EXPECT_EQ(decode_frame(bytes).error(), Errc::kUnknownType) << int(t);
  }
}

TEST(FrameMalformed, Oversize) {
  std::vector<uint8_t> payload(kMinMessageSize, 1);
  auto bytes = encoded(Data{1, 0, ByteView(payload)});
  EXPECT_EQ(decode_frame(bytes, kMinMessageSize).error(), Errc::kOversize);
  EXPECT_TRUE(decode_frame(bytes, 2 * kMinMessageSize).ok());
  // A header that claims a huge body is refused on the header alone.
  std::vector<uint8_t> liar(kEnvelopeSize);
  write_envelope(liar.data(), kWireVersion, static_cast<uint8_t>(FrameType::kData), 0xFFFFFFFF);
  EXPECT_EQ(decode_frame(liar).error(), Errc::kOversize);
  // Texts past their caps.
  auto big_error = encoded(ErrorFrame{1, 1, std::string(kMaxErrorText, 'x')});
  big_error[kEnvelopeSize + 6] = 0xFF;  // declared text length 0xFF..
  EXPECT_EQ(decode_frame(big_error).error(), Errc::kOversize);
  EXPECT_EQ(encode_frame(ErrorFrame{1, 1, std::string(kMaxErrorText + 1, 'x')}).error(),
            Errc::kOversize);
  EXPECT_EQ(encode_frame(Have{HaveOp::kAdd, std::vector<ResourceId>(0x10000)}).error(),
            Errc::kOversize);
}

TEST(FrameMalformed, ForbiddenFieldValues) {
  auto flags = encoded(Ping{});
  flags[3] = 1;
  EXPECT_EQ(decode_frame(flags).error(), Errc::kBadField);
  EXPECT_EQ(decode_frame(encoded(Hello{1, kMinMessageSize - 1, 0})).error(), Errc::kBadField);
  EXPECT_EQ(decode_frame(encoded(Hello{0, kMinMessageSize, 0})).error(), Errc::kBadField);
  auto have = encoded(Have{HaveOp::kAdd, {}});
  have[kEnvelopeSize] = 9;  // no such op
  EXPECT_EQ(decode_frame(have).error(), Errc::kBadField);
  EXPECT_EQ(decode_frame(encoded(Request{1, {}, {}, 0, 0})).error(), Errc::kBadField);
  EXPECT_EQ(decode_frame(encoded(Request{1, {}, {}, ~0ull - 1, 5})).error(), Errc::kBadField);
  EXPECT_EQ(decode_frame(encoded(Data{1, 0, ByteView()})).error(), Errc::kBadField);
}

TEST(FrameMalformed, DecoderStillWorksAfterErrors) {
  std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_FALSE(decode_frame(junk).ok());
  EXPECT_EQ(round_trip(Cancel{77}).request_id, 77u);
}

TEST(Frame, NegotiatedMessageSize) {
  Hello chromium{1, 256 * 1024, 0};
  Hello firefox{1, 1073741823, 0};
  EXPECT_EQ(negotiated_message_size(chromium, firefox), 256u * 1024);
  EXPECT_EQ(negotiated_message_size(firefox, firefox), 1073741823u);
  Hello tiny{1, 1000, 0};  // never below the floor, even if a peer claims less
  EXPECT_EQ(negotiated_message_size(tiny, chromium), kMinMessageSize);
}

TEST(Frame, MaxHaveIdsFitsTheMessage) {
  const size_t n = max_have_ids(kMinMessageSize);
  auto bytes = encoded(Have{HaveOp::kAdd, std::vector<ResourceId>(n)});
  EXPECT_LE(bytes.size(), kMinMessageSize);
  auto more = encoded(Have{HaveOp::kAdd, std::vector<ResourceId>(n + 1)});
  EXPECT_GT(more.size(), kMinMessageSize);
}

}  // namespace
}  // namespace p2pcdn
