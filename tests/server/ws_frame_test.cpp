// The frames the server writes, and its send queue's gathered batches.
#include "ws_frame.hpp"

#include <gtest/gtest.h>

#include <string>

#include "close_codes.hpp"
#include "ws_send_queue.hpp"

namespace p2pcdn::server {
namespace {

std::vector<uint8_t> header(uint8_t opcode, uint64_t size) {
  uint8_t out[kMaxServerFrameHeader];
  return std::vector<uint8_t>(out, out + write_ws_frame_header(out, opcode, size));
}

TEST(WsFrame, HeadersUseTheShortestLength) {
  EXPECT_EQ(header(ws_opcode::kBinary, 0), (std::vector<uint8_t>{0x82, 0}));
  EXPECT_EQ(header(ws_opcode::kBinary, 125), (std::vector<uint8_t>{0x82, 125}));
  EXPECT_EQ(header(ws_opcode::kBinary, 126), (std::vector<uint8_t>{0x82, 126, 0, 126}));
  EXPECT_EQ(header(ws_opcode::kBinary, 65535), (std::vector<uint8_t>{0x82, 126, 0xFF, 0xFF}));
  EXPECT_EQ(header(ws_opcode::kBinary, 65536),
            (std::vector<uint8_t>{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(header(ws_opcode::kPong, 3), (std::vector<uint8_t>{0x8A, 3}));
}

TEST(WsFrame, CloseFrames) {
  EXPECT_EQ(ws_close_frame(1001, "bye"),
            (std::vector<uint8_t>{0x88, 5, 0x03, 0xE9, 'b', 'y', 'e'}));
  EXPECT_EQ(ws_close_frame(close_code::kNoStatus, "ignored"), (std::vector<uint8_t>{0x88, 0}));
  // A reason too long for a control frame is cut at a character boundary.
  const std::string reason = std::string(122, 'r') + "\xE2\x82\xAC";
  auto frame = ws_close_frame(1000, reason);
  EXPECT_EQ(frame.size(), 2u + 2u + 122u);
  EXPECT_EQ(frame[1], 124);
}

std::vector<uint8_t> flatten(const std::vector<boost::asio::const_buffer>& buffers) {
  std::vector<uint8_t> out;
  for (const auto& b : buffers) {
    const auto* p = static_cast<const uint8_t*>(b.data());
    out.insert(out.end(), p, p + b.size());
  }
  return out;
}

std::shared_ptr<const std::vector<uint8_t>> shared(std::vector<uint8_t> bytes) {
  return std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
}

TEST(WsSendQueue, BatchesFramesAndDropsOnlyWhatIsNotBeingWritten) {
  WsSendQueue queue;
  queue.push(shared({1, 2}), false);
  queue.push(shared(ws_frame(ws_opcode::kPong, ByteView())), true);
  EXPECT_EQ(queue.queued_bytes(), 4u);
  EXPECT_EQ(flatten(queue.next_batch()), (std::vector<uint8_t>{0x82, 2, 1, 2, 0x8A, 0}));
  // Pushed during the write: not in it, and dropped if the connection is failing.
  queue.push(shared({3}), false);
  queue.drop_unwritten();
  queue.pop_batch();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.queued_bytes(), 0u);
  // At most 32 frames a batch: 64 buffers, what one writev() takes.
  for (int i = 0; i < 40; ++i) queue.push(shared(ws_frame(ws_opcode::kPong, ByteView())), true);
  EXPECT_EQ(queue.next_batch().size(), 32u);
  queue.pop_batch();
  EXPECT_EQ(queue.next_batch().size(), 8u);
}

TEST(WsSendQueue, APartlyWrittenFrameResumesWhereItStopped) {
  for (size_t written : {1, 2, 3, 4}) {
    WsSendQueue queue;
    queue.push(shared({1, 2, 3}), false);  // frame: 0x82 3 1 2 3
    queue.skip_written(written);
    queue.push(shared({9}), false);
    const std::vector<uint8_t> frames{0x82, 3, 1, 2, 3, 0x82, 1, 9};
    EXPECT_EQ(flatten(queue.next_batch()),
              std::vector<uint8_t>(frames.begin() + static_cast<long>(written), frames.end()))
        << written;
  }
}

}  // namespace
}  // namespace p2pcdn::server
