#include "p2pcdn/data_chunker.hpp"

#include <gtest/gtest.h>

#include "p2pcdn/chunk_assembler.hpp"

namespace p2pcdn {
namespace {

TEST(DataChunker, FramesNeverExceedTheMessageSize) {
  std::vector<uint8_t> body(100000);
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<uint8_t>(i);
  for (uint32_t max : {kMinMessageSize, 64u * 1024, 256u * 1024}) {
    DataChunker chunker(7, 0, body.size(), max);
    ChunkAssembler assembler;
    ASSERT_EQ(assembler.begin(7, 1, RequestShape{0, body.size(), sha256(ByteView(body))}, 0),
              Errc::kOk);
    size_t frames = 0;
    Result<ChunkOutcome> last = ChunkOutcome::kAccepted;
    while (!chunker.done()) {
      auto frame = chunker.next_frame(ByteView(body));
      ASSERT_FALSE(frame.empty());
      EXPECT_LE(frame.size(), max);
      auto decoded = decode_frame(frame, max);
      ASSERT_TRUE(decoded.ok());
      const Data& d = std::get<Data>(decoded.value());
      last = assembler.add(1, d.request_id, d.offset, d.payload, 0);
      ASSERT_TRUE(last.ok());
      ++frames;
    }
    EXPECT_EQ(last.value(), ChunkOutcome::kComplete);
    EXPECT_EQ(frames, (body.size() + max - kDataHeaderSize - 1) / (max - kDataHeaderSize));
  }
}

TEST(DataChunker, RangesAndClampedSizes) {
  DataChunker chunker(1, 1000, 50000, 100);  // below the floor: clamped to 16 KiB
  EXPECT_EQ(chunker.payload_capacity(), kMinMessageSize - kDataHeaderSize);
  DataSlice s = chunker.next();
  EXPECT_EQ(s.offset, 1000u);
  EXPECT_EQ(s.size, chunker.payload_capacity());
  std::vector<uint8_t> small(10);
  EXPECT_TRUE(chunker.next_frame(ByteView(small), 1000).empty());  // body does not cover it
  EXPECT_TRUE(chunker.next_frame(ByteView(small), 999999).empty());
  while (!chunker.done()) s = chunker.next();
  EXPECT_EQ(s.offset + s.size, 51000u);
  EXPECT_EQ(chunker.next().size, 0u);
}

}  // namespace
}  // namespace p2pcdn
