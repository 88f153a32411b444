// Piece digests against one-shot SHA-256 of the same slices, fed in blocks that do and do
// not line up with the pieces; which files get pieces, and how large.
#include "piece_hasher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace p2pcdn::server {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
constexpr size_t kPiece = 16 * kKiB;

std::vector<uint8_t> sample(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>((i * 131) ^ (i >> 9));
  return bytes;
}

std::vector<Sha256Digest> sliced_digests(const std::vector<uint8_t>& bytes, size_t piece_size) {
  std::vector<Sha256Digest> digests;
  for (size_t at = 0; at < bytes.size(); at += piece_size) {
    digests.push_back(sha256(ByteView(bytes.data() + at, std::min(piece_size, bytes.size() - at))));
  }
  return digests;
}

FileDigests hash_in_blocks(const std::vector<uint8_t>& bytes, uint64_t piece_size,
                           size_t block_size) {
  PieceHasher hasher(piece_size);
  for (size_t at = 0; at < bytes.size(); at += block_size) {
    hasher.update(ByteView(bytes.data() + at, std::min(block_size, bytes.size() - at)));
  }
  return hasher.finish();
}

TEST(PieceHasher, PieceBoundariesAreExactWhateverTheBlocks) {
  const auto bytes = sample(3 * kPiece + 5);
  const auto expected = sliced_digests(bytes, kPiece);
  ASSERT_EQ(expected.size(), 4u);
  // One byte at a time, blocks that straddle boundaries, blocks larger than a piece.
  for (size_t block : {size_t{1}, size_t{7}, kPiece - 1, kPiece, kPiece + 1, 5 * kPiece}) {
    const FileDigests digests = hash_in_blocks(bytes, kPiece, block);
    EXPECT_EQ(digests.pieces, expected) << "block " << block;
    EXPECT_EQ(digests.whole, sha256(bytes)) << "block " << block;
    EXPECT_EQ(digests.size, bytes.size());
  }
}

TEST(PieceHasher, LastPieceIsShort) {
  const auto bytes = sample(2 * kPiece + 1);
  const FileDigests digests = hash_in_blocks(bytes, kPiece, 4096);
  ASSERT_EQ(digests.pieces.size(), 3u);
  EXPECT_EQ(digests.pieces[2], sha256(ByteView(&bytes.back(), 1)));
}

TEST(PieceHasher, ExactMultipleHasNoEmptyLastPiece) {
  const auto bytes = sample(4 * kPiece);
  const FileDigests digests = hash_in_blocks(bytes, kPiece, kPiece);
  ASSERT_EQ(digests.pieces.size(), 4u);
  EXPECT_EQ(digests.pieces, sliced_digests(bytes, kPiece));
  EXPECT_NE(digests.pieces.back(), sha256(ByteView()));
}

TEST(PieceHasher, WithoutPieceSizeOnlyTheWhole) {
  const auto bytes = sample(100000);
  const FileDigests digests = hash_in_blocks(bytes, 0, 4096);
  EXPECT_TRUE(digests.pieces.empty());
  EXPECT_EQ(digests.whole, sha256(bytes));
}

TEST(PieceHasher, EmptyFileHasNoPieces) {
  const FileDigests digests = PieceHasher(kPiece).finish();
  EXPECT_EQ(digests.size, 0u);
  EXPECT_TRUE(digests.pieces.empty());
  EXPECT_EQ(digests.whole, sha256(ByteView()));
}

TEST(PiecePolicy, OnlyFilesLargerThanTheThreshold) {
  const PiecePolicy policy;  // 1 MiB, automatic size
  EXPECT_EQ(policy.piece_size_for(kMiB), 0u);
  EXPECT_EQ(policy.piece_size_for(kMiB + 1), 256 * kKiB);
  EXPECT_EQ(policy.piece_size_for(0), 0u);
}

TEST(PiecePolicy, ZeroThresholdCutsEveryNonEmptyFile) {
  const PiecePolicy policy{0, 0};
  EXPECT_EQ(policy.piece_size_for(0), 0u);
  EXPECT_EQ(policy.piece_size_for(1), 256 * kKiB);
  const PiecePolicy none{std::numeric_limits<uint64_t>::max(), 0};
  EXPECT_EQ(none.piece_size_for(std::numeric_limits<uint64_t>::max()), 0u);
}

TEST(PiecePolicy, GivenPieceSizeWinsOverAutomatic) {
  const PiecePolicy policy{kMiB, 64 * kKiB};
  EXPECT_EQ(policy.piece_size_for(kGiB), 64 * kKiB);  // 16384 pieces: the caller's choice
}

TEST(PieceSize, AutomaticIsTheSmallestPowerOfTwoForAtMost1024Pieces) {
  EXPECT_EQ(automatic_piece_size(1), 256 * kKiB);
  EXPECT_EQ(automatic_piece_size(64 * kMiB), 256 * kKiB);
  EXPECT_EQ(automatic_piece_size(256 * kMiB), 256 * kKiB);
  EXPECT_EQ(automatic_piece_size(256 * kMiB + 1), 512 * kKiB);
  EXPECT_EQ(automatic_piece_size(kGiB), kMiB);
  EXPECT_EQ(automatic_piece_size(64 * kGiB), 64 * kMiB);
  // Beyond 64 GiB the piece size stays at its maximum and the count grows instead.
  EXPECT_EQ(automatic_piece_size(1024 * kGiB), 64 * kMiB);
  EXPECT_EQ(automatic_piece_size(std::numeric_limits<uint64_t>::max()), 64 * kMiB);
}

TEST(PieceSize, ValidSizesArePowersOfTwoFrom16KiBTo64MiB) {
  EXPECT_TRUE(is_valid_piece_size(16 * kKiB));
  EXPECT_TRUE(is_valid_piece_size(256 * kKiB));
  EXPECT_TRUE(is_valid_piece_size(64 * kMiB));
  EXPECT_FALSE(is_valid_piece_size(0));
  EXPECT_FALSE(is_valid_piece_size(8 * kKiB));
  EXPECT_FALSE(is_valid_piece_size(128 * kMiB));
  EXPECT_FALSE(is_valid_piece_size(3 * 64 * kKiB));
  EXPECT_FALSE(is_valid_piece_size(256 * kKiB + 1));
}

TEST(PieceSize, CountRoundsUp) {
  EXPECT_EQ(piece_count(0, kPiece), 0u);
  EXPECT_EQ(piece_count(1, kPiece), 1u);
  EXPECT_EQ(piece_count(4 * kPiece, kPiece), 4u);
  EXPECT_EQ(piece_count(4 * kPiece + 1, kPiece), 5u);
  EXPECT_EQ(piece_count(std::numeric_limits<uint64_t>::max(), 64 * kMiB), uint64_t{1} << 38);
}

TEST(ConcatenatedBase64, StandardAlphabetWithPadding) {
  // SHA-256("abc") then SHA-256(""), encoded by `base64` (coreutils).
  EXPECT_EQ(
      concatenated_base64({sha256(ByteView::of("abc")), sha256(ByteView())}),
      "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa3jsMRCmPwcFJr79MiZb7kkJ65B5GSbk0yklZkbeFK4VQ==");
  EXPECT_EQ(concatenated_base64({sha256(ByteView::of("abc"))}),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(concatenated_base64({}), "");
}

}  // namespace
}  // namespace p2pcdn::server
