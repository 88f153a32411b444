#include "p2pcdn/data_chunker.hpp"

#include <algorithm>
#include <cstring>

namespace p2pcdn {

DataChunker::DataChunker(uint32_t request_id, uint64_t offset, uint64_t length,
                         uint32_t max_message_size)
    : request_id_(request_id),
      next_(offset),
      end_(offset + length < offset ? ~uint64_t{0} : offset + length),
      capacity_(std::max(max_message_size, kMinMessageSize) -
                static_cast<uint32_t>(kDataHeaderSize)) {}

DataSlice DataChunker::next() {
  const auto size = static_cast<uint32_t>(std::min<uint64_t>(capacity_, end_ - next_));
  DataSlice slice{next_, size};
  next_ += size;
  return slice;
}

std::vector<uint8_t> DataChunker::next_frame(ByteView body, uint64_t body_offset) {
  if (done() || next_ < body_offset) return {};
  const uint64_t from = next_ - body_offset;
  const uint64_t size = std::min<uint64_t>(capacity_, end_ - next_);
  if (from > body.size || size > body.size - from) return {};
  const DataSlice slice = next();
  std::vector<uint8_t> frame(kDataHeaderSize + slice.size);
  write_data_header(frame.data(), request_id_, slice.offset, slice.size);
  std::memcpy(frame.data() + kDataHeaderSize, body.data + from, slice.size);
  return frame;
}

}  // namespace p2pcdn
