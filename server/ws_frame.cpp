#include "ws_frame.hpp"

#include <algorithm>

#include "close_codes.hpp"

namespace p2pcdn::server {

size_t write_ws_frame_header(uint8_t* out, uint8_t opcode, uint64_t payload_size) {
  out[0] = static_cast<uint8_t>(0x80 | opcode);  // FIN: the server never fragments
  if (payload_size < 126) {
    out[1] = static_cast<uint8_t>(payload_size);
    return 2;
  }
  const size_t length_bytes = payload_size <= 0xFFFF ? 2 : 8;
  out[1] = length_bytes == 2 ? 126 : 127;
  for (size_t i = 0; i < length_bytes; ++i) {
    out[1 + length_bytes - i] = static_cast<uint8_t>(payload_size >> (8 * i));  // big-endian
  }
  return 2 + length_bytes;
}

std::vector<uint8_t> ws_frame(uint8_t opcode, ByteView payload) {
  std::vector<uint8_t> frame(kMaxServerFrameHeader + payload.size);
  const size_t header = write_ws_frame_header(frame.data(), opcode, payload.size);
  if (payload.size != 0)
    std::copy(payload.data, payload.data + payload.size, frame.data() + header);
  frame.resize(header + payload.size);
  return frame;
}

std::vector<uint8_t> ws_close_frame(uint16_t code, std::string_view reason) {
  if (code == close_code::kNoStatus) return ws_frame(ws_opcode::kClose, ByteView());
  if (reason.size() > kMaxControlPayload - 2) {
    size_t cut = kMaxControlPayload - 2;
    // Back off to a character boundary: a reason cut inside a UTF-8 sequence is invalid.
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::vector<uint8_t> payload{static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code)};
  payload.insert(payload.end(), reason.begin(), reason.end());
  return ws_frame(ws_opcode::kClose, ByteView(payload));
}

}  // namespace p2pcdn::server
