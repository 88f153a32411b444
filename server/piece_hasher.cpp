#include "piece_hasher.hpp"

#include <cryptopp/base64.h>
#include <cryptopp/filters.h>

#include <algorithm>

namespace p2pcdn::server {

bool is_valid_piece_size(uint64_t piece_size) {
  const bool power_of_two = piece_size != 0 && (piece_size & (piece_size - 1)) == 0;
  return power_of_two && piece_size >= kMinPieceSize && piece_size <= kMaxPieceSize;
}

uint64_t automatic_piece_size(uint64_t file_size) {
  uint64_t piece_size = kMinAutoPieceSize;
  while (piece_count(file_size, piece_size) > kMaxAutoPieces && piece_size < kMaxPieceSize) {
    piece_size *= 2;
  }
  return piece_size;
}

uint64_t piece_count(uint64_t file_size, uint64_t piece_size) {
  // Not (file_size + piece_size - 1) / piece_size: that overflows near 2^64.
  return file_size / piece_size + (file_size % piece_size != 0 ? 1 : 0);
}

uint64_t PiecePolicy::piece_size_for(uint64_t file_size) const {
  if (file_size <= threshold) return 0;
  return piece_size != 0 ? piece_size : automatic_piece_size(file_size);
}

PieceHasher::PieceHasher(uint64_t piece_size) : piece_size_(piece_size) {}

void PieceHasher::update(ByteView bytes) {
  whole_.update(bytes);
  digests_.size += bytes.size;
  if (piece_size_ == 0) return;
  while (bytes.size != 0) {
    const auto n = static_cast<size_t>(std::min<uint64_t>(bytes.size, piece_size_ - piece_filled_));
    piece_.update(ByteView(bytes.data, n));
    bytes = ByteView(bytes.data + n, bytes.size - n);
    piece_filled_ += n;
    // Closed as soon as it is full, so a size that is a multiple adds no empty last piece.
    if (piece_filled_ == piece_size_) {
      digests_.pieces.push_back(piece_.finish());
      piece_filled_ = 0;
    }
  }
}

FileDigests PieceHasher::finish() {
  if (piece_filled_ != 0) digests_.pieces.push_back(piece_.finish());
  piece_filled_ = 0;
  digests_.whole = whole_.finish();
  return std::move(digests_);
}

std::string concatenated_base64(const std::vector<Sha256Digest>& digests) {
  std::string out;
  CryptoPP::Base64Encoder encoder(new CryptoPP::StringSink(out), /*insertLineBreaks=*/false);
  for (const auto& digest : digests) encoder.Put(digest.data(), digest.size());
  encoder.MessageEnd();
  return out;
}

}  // namespace p2pcdn::server
