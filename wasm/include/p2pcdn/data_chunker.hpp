// Sender side of a transfer: walks a byte range in DATA-frame-sized slices, so a sender
// can interleave several requests one frame at a time (no head-of-line blocking).
#pragma once
#include <cstdint>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/frame.hpp"

namespace p2pcdn {

struct DataSlice {
  uint64_t offset = 0;  // absolute offset in the body
  uint32_t size = 0;
};

class DataChunker {
 public:
  // Frames never exceed max_message_size (clamped to at least kMinMessageSize).
  DataChunker(uint32_t request_id, uint64_t offset, uint64_t length, uint32_t max_message_size);

  bool done() const { return next_ == end_; }
  uint32_t request_id() const { return request_id_; }
  uint32_t payload_capacity() const { return capacity_; }

  // The next slice; {end, 0} once done.
  DataSlice next();

  // The next DATA frame built from `body`, which holds the body from absolute offset
  // body_offset. Empty once done or when body does not cover the slice.
  std::vector<uint8_t> next_frame(ByteView body, uint64_t body_offset = 0);

 private:
  uint32_t request_id_;
  uint64_t next_;
  uint64_t end_;
  uint32_t capacity_;
};

}  // namespace p2pcdn
