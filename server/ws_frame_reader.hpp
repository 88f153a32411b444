// Parses what a WebSocket client sends (RFC 6455 section 5) with no sockets: bytes in, in
// pieces of any size, messages and control frames out. Built for many idle connections:
// between messages the reader holds no heap memory, and a message that arrives whole in one
// read is handed out where it lies, unmasked in place, without a copy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "p2pcdn/bytes.hpp"

namespace p2pcdn::server {

// What the reader found, told during WsFrameReader::feed(). Views are valid only during
// the call.
class WsFrameHandler {
 public:
  // A whole data message, its fragments joined.
  virtual void on_message(bool text, ByteView payload) = 0;
  virtual void on_ping(ByteView payload) = 0;
  // The client's close frame; code is close_code::kNoStatus if it carried none. The reader
  // ignores everything after it.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;

 protected:
  ~WsFrameHandler() = default;
};

class WsFrameReader {
 public:
  explicit WsFrameReader(uint32_t max_message_size) : max_message_size_(max_message_size) {}

  // Parses the next `size` bytes of the stream, unmasking them in place (hence not const).
  // Returns 0, or the close code the connection must fail with: kProtocolError for a frame
  // RFC 6455 forbids, kInvalidData for text that is not UTF-8, kTooBig for a message over
  // the maximum (found from its header, before its payload is buffered). After a failure
  // the reader ignores all further input.
  uint16_t feed(uint8_t* data, size_t size, WsFrameHandler& handler);

  bool failed() const { return stage_ == Stage::kFailed; }
  bool closed() const { return stage_ == Stage::kClosed; }
  // True between frames with no fragmented message pending: nothing held on the heap.
  bool idle() const { return stage_ == Stage::kHeader && header_size_ == 0 && buffer_.empty(); }

 private:
  enum class Stage : uint8_t { kHeader, kPayload, kFailed, kClosed };

  size_t read_header(const uint8_t* data, size_t size);
  bool header_complete() const;
  uint64_t payload_length() const;
  uint8_t opcode() const { return header_[0] & 0x0F; }
  bool fin() const { return (header_[0] & 0x80) != 0; }
  bool control() const { return (header_[0] & 0x08) != 0; }
  uint16_t check_first_bytes() const;
  uint16_t check_length() const;
  bool can_handle_in_place() const;
  void unmask(uint8_t* data, size_t size);
  uint16_t finish_frame(ByteView payload, WsFrameHandler& handler);
  uint16_t finish_buffered_frame(WsFrameHandler& handler);
  uint16_t on_control(ByteView payload, WsFrameHandler& handler);
  uint16_t on_close(ByteView payload, WsFrameHandler& handler);
  uint16_t fail(uint16_t code);
  void release_buffer();

  // The fragments of an unfinished message; while a control frame split across reads comes
  // in, its payload follows them here.
  std::vector<uint8_t> buffer_;
  uint64_t remaining_ = 0;  // payload bytes of the current frame still to come
  uint32_t max_message_size_;
  uint8_t header_[14] = {};     // the current frame's header: 2 bytes, length, mask key
  uint8_t header_size_ = 0;     // bytes of it read so far
  uint8_t mask_phase_ = 0;      // which mask key byte the next payload byte is XORed with
  uint8_t message_opcode_ = 0;  // kText or kBinary while a fragmented message is unfinished
  Stage stage_ = Stage::kHeader;
};

}  // namespace p2pcdn::server
