#include "ws_frame_reader.hpp"

#include <algorithm>
#include <cstring>

#include "close_codes.hpp"
#include "ws_frame.hpp"

namespace p2pcdn::server {
namespace {

constexpr size_t kMaskKeySize = 4;

// The size of a client frame's header, known from its first two bytes.
size_t full_header_size(const uint8_t* header) {
  const uint8_t length_code = header[1] & 0x7F;
  const size_t extended = length_code == 126 ? 2 : length_code == 127 ? 8 : 0;
  return 2 + extended + kMaskKeySize;
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(ByteView text) {
  const uint8_t* s = text.data;
  const size_t n = text.size;
  size_t i = 0;
  while (i < n) {
    const uint8_t lead = s[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t point = 0, smallest = 0;
    if ((lead & 0xE0) == 0xC0) {
      extra = 1, point = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2, point = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3, point = lead & 0x07, smallest = 0x10000;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      point = point << 6 | (s[i + k] & 0x3F);
    }
    if (point < smallest || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// The codes a close frame may carry (as Beast accepts them): the defined ones of 1000-1013
// that are not reserved for local use, and the registered and private ranges from 3000.
bool valid_close_code(uint16_t code) {
  if (code >= 3000) return true;
  if (code < 1000 || code > 1013) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

uint16_t WsFrameReader::feed(uint8_t* data, size_t size, WsFrameHandler& handler) {
  size_t pos = 0;
  while (stage_ == Stage::kHeader || stage_ == Stage::kPayload) {
    if (stage_ == Stage::kHeader) {
      pos += read_header(data + pos, size - pos);
      // The first two bytes tell most violations: no need to wait for the rest.
      if (header_size_ >= 2) {
        if (const uint16_t error = check_first_bytes()) return fail(error);
      }
      if (!header_complete()) return 0;  // the rest of the header is still to come
      if (const uint16_t error = check_length()) return fail(error);
      remaining_ = payload_length();
      mask_phase_ = 0;
      if (remaining_ <= size - pos && can_handle_in_place()) {
        uint8_t* payload = data + pos;
        const size_t length = static_cast<size_t>(remaining_);
        pos += length;
        remaining_ = 0;
        unmask(payload, length);
        header_size_ = 0;  // the next frame's header may now be read; ours is kept below
        if (const uint16_t error = finish_frame(ByteView(payload, length), handler)) {
          return fail(error);
        }
        continue;
      }
      stage_ = Stage::kPayload;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, size - pos));
    unmask(data + pos, n);
    buffer_.insert(buffer_.end(), data + pos, data + pos + n);
    pos += n;
    remaining_ -= n;
    if (remaining_ > 0) return 0;  // all input taken; the payload goes on in the next read
    if (const uint16_t error = finish_buffered_frame(handler)) return fail(error);
  }
  if (stage_ == Stage::kClosed) release_buffer();
  return 0;
}

size_t WsFrameReader::read_header(const uint8_t* data, size_t size) {
  size_t used = 0;
  while (used < size && !header_complete()) {
    const size_t needed = header_size_ < 2 ? 2 : full_header_size(header_);
    const size_t n = std::min(needed - header_size_, size - used);
    std::memcpy(header_ + header_size_, data + used, n);
    header_size_ = static_cast<uint8_t>(header_size_ + n);
    used += n;
  }
  return used;
}

bool WsFrameReader::header_complete() const {
  return header_size_ >= 2 && header_size_ == full_header_size(header_);
}

uint64_t WsFrameReader::payload_length() const {
  const uint8_t length_code = header_[1] & 0x7F;
  if (length_code < 126) return length_code;
  const size_t bytes = length_code == 126 ? 2 : 8;
  uint64_t length = 0;
  for (size_t i = 0; i < bytes; ++i) length = length << 8 | header_[2 + i];
  return length;
}

uint16_t WsFrameReader::check_first_bytes() const {
  using close_code::kProtocolError;
  if ((header_[0] & 0x70) != 0) return kProtocolError;  // RSV bits: no extension was agreed
  if ((header_[1] & 0x80) == 0) return kProtocolError;  // client frames must be masked
  if (control()) {
    if (opcode() > ws_opcode::kPong) return kProtocolError;
    // Whole, and short enough for a 7-bit length.
    return fin() && (header_[1] & 0x7F) <= kMaxControlPayload ? 0 : kProtocolError;
  }
  if (opcode() > ws_opcode::kBinary) return kProtocolError;
  // A continuation only inside a message, a new message only outside one.
  if ((opcode() == ws_opcode::kContinuation) != (message_opcode_ != 0)) return kProtocolError;
  return 0;
}

uint16_t WsFrameReader::check_length() const {
  const uint64_t length = payload_length();
  const uint8_t length_code = header_[1] & 0x7F;
  // Lengths use the shortest encoding, and a 64-bit length has its top bit clear.
  if ((length_code == 126 && length < 126) || (length_code == 127 && length <= 0xFFFF) ||
      (length >> 63) != 0) {
    return close_code::kProtocolError;
  }
  // The fragments so far are in buffer_, and never more than the maximum.
  if (!control() && length > max_message_size_ - buffer_.size()) return close_code::kTooBig;
  return 0;
}

// A control frame, or a message in one frame, needs nothing from earlier reads.
bool WsFrameReader::can_handle_in_place() const {
  return control() || (fin() && message_opcode_ == 0);
}

void WsFrameReader::unmask(uint8_t* data, size_t size) {
  const uint8_t* key = header_ + full_header_size(header_) - kMaskKeySize;
  for (size_t i = 0; i < size; ++i) data[i] ^= key[(mask_phase_ + i) & 3];
  mask_phase_ = static_cast<uint8_t>((mask_phase_ + size) & 3);
}

// A frame's whole payload, unmasked. header_ still describes the frame.
uint16_t WsFrameReader::finish_frame(ByteView payload, WsFrameHandler& handler) {
  if (control()) return on_control(payload, handler);
  const uint8_t message_opcode = opcode() == ws_opcode::kContinuation ? message_opcode_ : opcode();
  if (!fin()) {
    message_opcode_ = message_opcode;  // more fragments follow
    return 0;
  }
  message_opcode_ = 0;
  const bool text = message_opcode == ws_opcode::kText;
  if (text && !valid_utf8(payload)) return close_code::kInvalidData;
  handler.on_message(text, payload);
  return 0;
}

uint16_t WsFrameReader::finish_buffered_frame(WsFrameHandler& handler) {
  stage_ = Stage::kHeader;
  header_size_ = 0;  // header_ keeps its bytes for finish_frame
  uint16_t error = 0;
  if (control()) {
    // Its payload is the tail of buffer_, after any unfinished message's fragments.
    const size_t start = buffer_.size() - static_cast<size_t>(payload_length());
    error = on_control(ByteView(buffer_.data() + start, buffer_.size() - start), handler);
    buffer_.resize(start);
    if (buffer_.empty()) release_buffer();
  } else if (fin()) {
    error = finish_frame(ByteView(buffer_), handler);
    release_buffer();
  } else {
    error = finish_frame(ByteView(), handler);  // a fragment: it stays in buffer_
  }
  return error;
}

uint16_t WsFrameReader::on_control(ByteView payload, WsFrameHandler& handler) {
  switch (opcode()) {
    case ws_opcode::kPing:
      handler.on_ping(payload);
      return 0;
    case ws_opcode::kClose:
      return on_close(payload, handler);
    default:  // a pong: the server sends no pings, so there is nothing to match it with
      return 0;
  }
}

uint16_t WsFrameReader::on_close(ByteView payload, WsFrameHandler& handler) {
  if (payload.size == 1) return close_code::kProtocolError;  // half a code
  uint16_t code = close_code::kNoStatus;
  std::string_view reason;
  if (payload.size >= 2) {
    code = static_cast<uint16_t>(payload.data[0] << 8 | payload.data[1]);
    if (!valid_close_code(code)) return close_code::kProtocolError;
    const ByteView text(payload.data + 2, payload.size - 2);
    if (!valid_utf8(text)) return close_code::kInvalidData;
    reason = std::string_view(reinterpret_cast<const char*>(text.data), text.size);
  }
  stage_ = Stage::kClosed;  // feed() then frees what an unfinished message held
  handler.on_close(code, reason);
  return 0;
}

uint16_t WsFrameReader::fail(uint16_t code) {
  stage_ = Stage::kFailed;
  release_buffer();
  return code;
}

void WsFrameReader::release_buffer() {
  std::vector<uint8_t>().swap(buffer_);  // clear() would keep the capacity
}

}  // namespace p2pcdn::server
