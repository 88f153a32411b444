// Large files as pieces: the SHA-256 of a whole file and of each of its fixed-size pieces,
// from one pass over its bytes, so a browser can check every piece as it arrives from
// whichever peer sent it instead of waiting for the whole file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/sha256.hpp"

namespace p2pcdn::server {

constexpr uint64_t kMinPieceSize = uint64_t{16} << 10;
constexpr uint64_t kMaxPieceSize = uint64_t{64} << 20;
constexpr uint64_t kDefaultPieceThreshold = uint64_t{1} << 20;
// Automatic piece sizes start here and double until a file has at most kMaxAutoPieces.
constexpr uint64_t kMinAutoPieceSize = uint64_t{256} << 10;
constexpr uint64_t kMaxAutoPieces = 1024;

// A power of two from kMinPieceSize to kMaxPieceSize.
bool is_valid_piece_size(uint64_t piece_size);

// The smallest power of two >= kMinAutoPieceSize that cuts file_size into at most
// kMaxAutoPieces pieces; kMaxPieceSize for files too large for that.
uint64_t automatic_piece_size(uint64_t file_size);

// ceil(file_size / piece_size): the last piece is shorter when the size is not a multiple.
uint64_t piece_count(uint64_t file_size, uint64_t piece_size);

// Which files are cut into pieces, and how large the pieces are.
struct PiecePolicy {
  uint64_t threshold = kDefaultPieceThreshold;  // files larger than this are cut
  uint64_t piece_size = 0;                      // 0: automatic_piece_size

  // 0 for a file that is not cut.
  uint64_t piece_size_for(uint64_t file_size) const;
};

struct FileDigests {
  uint64_t size = 0;
  Sha256Digest whole{};
  std::vector<Sha256Digest> pieces;  // in piece order; empty when not cut
};

// Feed a file's bytes in any blocks; finish() once.
class PieceHasher {
 public:
  // piece_size 0: the whole-file digest only.
  explicit PieceHasher(uint64_t piece_size);

  void update(ByteView bytes);
  FileDigests finish();

 private:
  uint64_t piece_size_;
  uint64_t piece_filled_ = 0;  // bytes of the current piece hashed so far
  Sha256 whole_;
  Sha256 piece_;
  FileDigests digests_;
};

// The manifest's `pieces.hashes`: standard base64, with padding, of the digests back to back.
std::string concatenated_base64(const std::vector<Sha256Digest>& digests);

}  // namespace p2pcdn::server
