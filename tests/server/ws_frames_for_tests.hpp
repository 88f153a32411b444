// Hand-made client frames (masked, as RFC 6455 requires of clients) for the frame reader's
// tests and the raw-socket server tests.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace p2pcdn::server::testing_frames {

// One frame with the shortest length encoding, masked with `key`.
inline std::vector<uint8_t> client_frame(uint8_t opcode, const std::vector<uint8_t>& payload,
                                         bool fin = true,
                                         std::vector<uint8_t> key = {0x12, 0x34, 0x56, 0x78}) {
  std::vector<uint8_t> frame{static_cast<uint8_t>((fin ? 0x80 : 0) | opcode)};
  const uint64_t size = payload.size();
  if (size < 126) {
    frame.push_back(static_cast<uint8_t>(0x80 | size));
  } else {
    const int bytes = size <= 0xFFFF ? 2 : 8;
    frame.push_back(bytes == 2 ? 0x80 | 126 : 0x80 | 127);
    for (int i = bytes - 1; i >= 0; --i) frame.push_back(static_cast<uint8_t>(size >> (8 * i)));
  }
  frame.insert(frame.end(), key.begin(), key.end());
  for (size_t i = 0; i < payload.size(); ++i) frame.push_back(payload[i] ^ key[i % 4]);
  return frame;
}

inline std::vector<uint8_t> client_frame(uint8_t opcode, std::string_view payload,
                                         bool fin = true) {
  return client_frame(opcode, std::vector<uint8_t>(payload.begin(), payload.end()), fin);
}

// Frames one after the other, as they would come down the socket.
struct Frames {
  std::vector<uint8_t> bytes;
  Frames& add(const std::vector<uint8_t>& frame) {
    bytes.insert(bytes.end(), frame.begin(), frame.end());
    return *this;
  }
};

}  // namespace p2pcdn::server::testing_frames
