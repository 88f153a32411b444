#include "ws_send_queue.hpp"

#include <algorithm>

#include "ws_frame.hpp"

namespace p2pcdn::server {
namespace {

// Two buffers a message: 32 messages fill the 64 buffers Asio passes to one writev().
constexpr size_t kMaxBatchItems = 32;

}  // namespace

void WsSendQueue::push_message(std::shared_ptr<const std::vector<uint8_t>> payload) {
  queued_bytes_ += payload->size();
  items_.push_back({std::move(payload), false});
}

void WsSendQueue::push_frame(std::vector<uint8_t> frame) {
  queued_bytes_ += frame.size();
  items_.push_back({std::make_shared<const std::vector<uint8_t>>(std::move(frame)), true});
}

const std::vector<boost::asio::const_buffer>& WsSendQueue::next_batch() {
  batch_items_ = std::min(items_.size(), kMaxBatchItems);
  headers_.resize(batch_items_ * kMaxServerFrameHeader);  // sized before pointers are taken
  buffers_.clear();
  for (size_t i = 0; i < batch_items_; ++i) {
    const std::vector<uint8_t>& bytes = *items_[i].bytes;
    if (!items_[i].whole_frame) {
      uint8_t* header = headers_.data() + i * kMaxServerFrameHeader;
      buffers_.emplace_back(header,
                            write_ws_frame_header(header, ws_opcode::kBinary, bytes.size()));
    }
    buffers_.emplace_back(bytes.data(), bytes.size());
  }
  return buffers_;
}

void WsSendQueue::pop_batch() {
  for (; batch_items_ > 0; --batch_items_) {
    queued_bytes_ -= items_.front().bytes->size();
    items_.pop_front();
  }
}

void WsSendQueue::drop_unwritten() {
  while (items_.size() > batch_items_) {
    queued_bytes_ -= items_.back().bytes->size();
    items_.pop_back();
  }
}

}  // namespace p2pcdn::server
