// Peer wire protocol: the frames two browsers exchange over a data channel.
// One data-channel message carries exactly one frame. See docs/protocol.md.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/result.hpp"

namespace p2pcdn {

inline constexpr uint8_t kWireVersion = 1;
// Every data channel implementation accepts 16 KiB messages; larger sizes are negotiated.
inline constexpr uint32_t kMinMessageSize = 16 * 1024;
// Chromium's sctp.maxMessageSize, so the default whenever Chromium may be involved.
inline constexpr uint32_t kDefaultMaxMessageSize = 256 * 1024;
// version, type, flags, length + request id u32 + offset u64.
inline constexpr size_t kDataHeaderSize = 8 + 4 + 8;
// Bounds the text a peer can make us hold per ERROR frame.
inline constexpr size_t kMaxErrorText = 1024;
// Bounds the header block a peer can make us hold per RESPONSE_HEAD.
inline constexpr size_t kMaxHeaderBlock = 8 * 1024;

enum class FrameType : uint8_t {
  kHello = 1,
  kHave = 2,
  kRequest = 3,
  kResponseHead = 4,
  kData = 5,
  kCancel = 6,
  kNotFound = 7,
  kError = 8,
  kPing = 9,
  kPong = 10,
  kHavePieces = 11,
};

// Capability bits in HELLO; unknown bits are ignored so newer peers stay compatible.
inline constexpr uint32_t kCapByteRanges = 1u << 0;  // serves REQUESTs with offset/length
// Decodes HAVE_PIECES. A peer without it treats type 11 as malformed and bans the sender, so
// HAVE_PIECES goes only to peers whose HELLO sets this bit.
inline constexpr uint32_t kCapPieces = 1u << 1;

struct Hello {
  uint8_t max_version = kWireVersion;
  uint32_t max_message_size = kDefaultMaxMessageSize;  // largest message this side accepts
  uint32_t capabilities = kCapByteRanges;
};

enum class HaveOp : uint8_t { kAdd = 0, kRemove = 1, kReplace = 2 };

struct Have {
  HaveOp op = HaveOp::kAdd;
  std::vector<ResourceId> ids;
};

// Whole body: offset 0, length kToEnd.
inline constexpr uint64_t kToEnd = ~uint64_t{0};

struct Request {
  uint32_t request_id = 0;
  ResourceId resource{};
  Sha256Digest content_hash{};  // the version the asker wants; others answer NOT_FOUND
  uint64_t offset = 0;
  uint64_t length = kToEnd;
};

struct ResponseHead {
  uint32_t request_id = 0;
  uint64_t total_size = 0;  // size of the whole body, whatever range was asked
  std::string headers;      // "name: value\n" lines kept from the origin (Content-Type, ...)
};

struct Data {
  uint32_t request_id = 0;
  uint64_t offset = 0;  // absolute offset in the body
  ByteView payload;     // view into the decoded message, not a copy
};

struct Cancel {
  uint32_t request_id = 0;
};

struct NotFound {
  uint32_t request_id = 0;
};

enum class WireError : uint16_t {
  kMalformed = 1,  // the peer could not decode a frame of ours
  kBusy = 2,       // upload limit reached; ask someone else
  kInternal = 3,   // the cache failed to read the body
  kRangeNotSatisfiable = 4,
};

struct ErrorFrame {
  uint32_t request_id = 0;  // 0: about the connection, not one request
  uint16_t code = 0;
  std::string message;
};

struct Ping {
  uint32_t nonce = 0;
  uint64_t sent_at_ms = 0;  // sender's clock; echoed in PONG for RTT
};

struct Pong {
  uint32_t nonce = 0;
  uint64_t sent_at_ms = 0;
};

// Bounds the bitfield a peer can make us hold per HAVE_PIECES (128 KiB).
inline constexpr uint32_t kMaxPieceCount = 1u << 20;

// Of one resource, exactly these pieces are held (replaces what the sender said before).
// Piece i is bit 7 - i % 8 of byte i / 8, most significant first as in BitTorrent; the spare
// bits of the last byte are 0. A peer holding the whole file sends HAVE instead.
struct HavePieces {
  ResourceId resource{};
  uint32_t piece_count = 0;       // 1..kMaxPieceCount
  std::vector<uint8_t> bitfield;  // piece_bitfield_size(piece_count) bytes
};

inline size_t piece_bitfield_size(uint32_t piece_count) {
  return (size_t{piece_count} + 7) / 8;
}

// kOk, kBadField (count 0 or above the cap, a spare bit set) or kBadLength (wrong size).
Errc check_piece_bitfield(uint32_t piece_count, ByteView bitfield);

// False for a piece past the bitfield's end, so an index from anywhere is safe.
inline bool has_piece(ByteView bitfield, uint32_t piece) {
  return piece / 8 < bitfield.size && (bitfield.data[piece / 8] >> (7 - piece % 8) & 1) != 0;
}

using Frame = std::variant<Hello, Have, Request, ResponseHead, Data, Cancel, NotFound, ErrorFrame,
                           Ping, Pong, HavePieces>;

FrameType frame_type(const Frame& frame);

// Fails with kOversize when a list or text is longer than its field can declare, and for a
// HAVE_PIECES the decoder would refuse (kBadField, kBadLength): every peer would ban us for it.
Result<std::vector<uint8_t>> encode_frame(const Frame& frame);

// Decodes one data-channel message. Data::payload points into message.
Result<Frame> decode_frame(ByteView message, size_t max_message_size = kDefaultMaxMessageSize);

// Writes a DATA header into out[0..kDataHeaderSize) so a sender can place the payload
// right behind it without building a Frame.
void write_data_header(uint8_t* out, uint32_t request_id, uint64_t offset, uint32_t payload_size);

// The message size both sides use: the smaller of the two limits, never below 16 KiB.
uint32_t negotiated_message_size(const Hello& local, const Hello& remote);

// Most ids a single HAVE can carry within a message size.
size_t max_have_ids(size_t max_message_size);

// Most pieces a HAVE_PIECES can describe within a message size (130720 at the 16 KiB floor).
uint32_t max_have_pieces(size_t max_message_size);

}  // namespace p2pcdn
