// Cuts one fuzz input into a sequence of messages, at points the fuzzer chooses. Both
// protocols are message-based (one data-channel message or one WebSocket message per frame),
// so a harness feeds each piece as its own message, in order, to one long-lived state:
//
//   input := piece*    piece := control u8 | length u16 (big-endian) | bytes[length]
//
// A length past the end of the input takes what remains; a header cut short ends the input.
// control is the fuzzer's free choice for that piece (where to cut it in two, which peer sent
// it, how much time passed): each harness says what it means. At most kMaxPieces pieces are
// cut; the rest of the input is ignored, so one input stays cheap however it is mutated.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>

#include "p2pcdn/bytes.hpp"

namespace p2pcdn::fuzz {

inline constexpr size_t kPieceHeaderSize = 3;
inline constexpr size_t kMaxPieces = 64;

struct Piece {
  ByteView bytes;  // a view into the fuzz input: copy it (HeapCopy) before handing it on
  uint8_t control = 0;
};

// Calls on_piece(Piece) for each piece of in, in order; returns how many there were.
template <class OnPiece>
size_t for_each_piece(ByteView in, OnPiece&& on_piece) {
  size_t at = 0;
  size_t count = 0;
  while (count < kMaxPieces && in.size - at >= kPieceHeaderSize) {
    const uint8_t control = in.data[at];
    const size_t declared = size_t{in.data[at + 1]} << 8 | in.data[at + 2];
    at += kPieceHeaderSize;
    const size_t length = declared < in.size - at ? declared : in.size - at;
    on_piece(Piece{ByteView(in.data + at, length), control});
    at += length;
    ++count;
  }
  return count;
}

// Where a message of `size` bytes is cut in two (both parts non-empty): 1 .. size - 1, picked
// by `choice`. size must be at least 2.
inline size_t cut_point(size_t size, uint32_t choice) {
  return 1 + choice % (size - 1);
}

// A copy of some bytes in a heap block of exactly their size, as a transport hands a decoder a
// message: AddressSanitizer reports any read one byte past it (a view into the fuzz input would
// let a decoder read the next piece unnoticed).
class HeapCopy {
 public:
  explicit HeapCopy(ByteView bytes) : bytes_(new uint8_t[bytes.size]), size_(bytes.size) {
    if (size_ != 0) std::memcpy(bytes_.get(), bytes.data, size_);
  }
  ByteView view() const { return ByteView(bytes_.get(), size_); }
  uint8_t* data() { return bytes_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> bytes_;
  size_t size_;
};

}  // namespace p2pcdn::fuzz
