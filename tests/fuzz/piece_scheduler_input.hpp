// The input of piece_scheduler_fuzz, shared with make_seeds.cpp so the seeds speak it:
//
//   input  := layout op*
//   layout := kind u8 | count u16 | size u16 | shift u8 | tail u16          the file
//             | in_flight u8 | queue_ms u16 | copies u8 | failures u8         the limits
//   op     := code u8 | arguments (by op, below)
//
// Multi-byte fields are big-endian; a read past the end of the input gives 0 and ends it.
// kind % 8: 0-4 a consistent layout (count % 64 + 1 pieces below 0x8000, else count % 4096 + 1,
// of (size + 1) << (shift % 33) bytes, the last one tail % piece + 1 bytes); 5 a file one piece
// short; 6 one piece and a byte too long; 7 an odd layout (piece_scheduler_fuzz.cpp's
// kOddLayouts) picked by count.
// Limits: in_flight % 9 (64 from 250 up), copies % 5 (itself from 250 up), failures % 5 (300
// from 250 up), queue_ms itself (2^64 - 1 for 0xffff).
// code: low nibble the operation (PieceOp), high nibble how the clock moves before it
// (kClockSteps: forward mostly, sometimes back).
// Arguments: peer u8 (an index into kPeers); piece u16 (kSpecialPieces from 0xfff8 up, else
// modulo the piece count); pair sel u8 (bit 7 clear: the flight sel % flights, in the order
// they were started, if any; else peer sel & 0x7f and a piece u16 follows).
#pragma once
#include <cstddef>
#include <cstdint>

namespace p2pcdn::fuzz::pieces {

enum PieceOp : uint8_t {
  kNeed = 0,         // piece first, piece last
  kHave = 1,         // piece
  kAddPeer = 2,      // peer
  kSetPieces = 3,    // peer, mode u8, then by mode (kBits*)
  kRemovePeer = 4,   // peer
  kNext = 5,         // peer
  kNextAll = 6,      // -: next() on every peer of the pool until it gives nothing
  kDone = 7,         // pair
  kFailed = 8,       // pair
  kCancel = 9,       // pair
  kOrphans = 10,     // -
  kDoneAll = 11,     // peer: done() on each of its flights
  kNeedAll = 12,     // -: need(0, 0xffffffff)
  kFromOrigin = 13,  // -: have() on every orphan, as the page does
  kNext2 = 14,       // as kNext
  kNeedAgain = 15,   // piece
};

// set_pieces mode: bits 0-1 the length, bits 2-3 the content, bit 4 keep the spare bits set.
enum BitsLength : uint8_t {
  kBitsRightSize = 0,  // piece_bitfield_size(piece_count())
  kBitsOneMore = 1,
  kBitsOneLess = 2,
  kBitsAnySize = 3,  // u8 follows: the size
};
enum BitsContent : uint8_t {
  kBitsFill = 0,    // u8 follows: every byte
  kBitsRange = 1,   // piece first, piece last follow: those pieces
  kBitsCycled = 2,  // u8 k follows, then k % 32 + 1 bytes, repeated
  kBitsAll = 3,     // every bit
};
inline constexpr uint8_t kBitsKeepSpare = 0x10;

inline constexpr uint8_t bits_mode(BitsLength length, BitsContent content, bool spare = false) {
  return static_cast<uint8_t>(length | content << 2 | (spare ? kBitsKeepSpare : 0));
}

inline constexpr uint8_t op_code(PieceOp op, uint8_t clock = 0) {
  return static_cast<uint8_t>(op | clock << 4);
}

// Milliseconds the clock moves by, per high nibble of an op code.
inline constexpr int64_t kClockSteps[16] = {
    0, 0, 0, 1, 2, 5, 10, 50, 100, 500, 1000, 5000, 60000, int64_t{1} << 32, -100, -100000};

// The pool of peers: handles as the page numbers its links, 0 and the largest included.
inline constexpr uint32_t kPeers[] = {1, 2, 3, 0, 0xffffffff, 4};
inline constexpr size_t kPeerCount = sizeof(kPeers) / sizeof(kPeers[0]);

inline constexpr uint16_t kSpecialPieceFrom = 0xfff8;

}  // namespace p2pcdn::fuzz::pieces
