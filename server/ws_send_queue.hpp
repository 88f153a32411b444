// What waits to go out on one plain WebSocket, and the batch being written. A session makes
// one only when a frame cannot go out at once, so an idle connection holds a null pointer.
#pragma once
#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace p2pcdn::server {

class WsSendQueue {
 public:
  // A binary message, its frame header made when it is written; or (whole_frame) a frame
  // the server built itself, header included (a pong, a close).
  void push(std::shared_ptr<const std::vector<uint8_t>> bytes, bool whole_frame);
  // The first `bytes` of the front frame are already out: a direct write sent part of it.
  void skip_written(size_t bytes) { front_written_ = bytes; }

  bool empty() const { return items_.empty(); }
  uint64_t queued_bytes() const { return queued_bytes_; }

  // The frames at the front, headers included, as buffers for one gathered write. They stay
  // valid, whatever is pushed meanwhile, until pop_batch().
  const std::vector<boost::asio::const_buffer>& next_batch();
  // The batch has been written.
  void pop_batch();
  // Forgets everything not in the batch being written.
  void drop_unwritten();

 private:
  struct Item {
    std::shared_ptr<const std::vector<uint8_t>> bytes;
    bool whole_frame;  // bytes are a frame already, header included
  };

  void skip_front_written();

  std::deque<Item> items_;
  uint64_t queued_bytes_ = 0;
  size_t front_written_ = 0;      // bytes of the front frame sent before it was queued
  size_t batch_items_ = 0;        // items from the front in the write in flight
  std::vector<uint8_t> headers_;  // their frame headers, kMaxServerFrameHeader bytes each
  std::vector<boost::asio::const_buffer> buffers_;
};

}  // namespace p2pcdn::server
