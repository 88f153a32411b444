#include "ws_send_queue.hpp"

#include <algorithm>

#include "ws_frame.hpp"

namespace p2pcdn::server {
namespace {

// Two buffers a message: 32 messages fill the 64 buffers Asio passes to one writev().
constexpr size_t kMaxBatchItems = 32;

}  // namespace

void WsSendQueue::push(std::shared_ptr<const std::vector<uint8_t>> bytes, bool whole_frame) {
  queued_bytes_ += bytes->size();
  items_.push_back({std::move(bytes), whole_frame});
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
  skip_front_written();
  return buffers_;
}

void WsSendQueue::skip_front_written() {
  size_t skip = front_written_;
  size_t sent = 0;  // buffers entirely sent
  while (sent < buffers_.size() && buffers_[sent].size() <= skip) skip -= buffers_[sent++].size();
  buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<long>(sent));
  if (!buffers_.empty()) buffers_.front() += skip;
}

void WsSendQueue::pop_batch() {
  front_written_ = 0;
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
