// RFC 6455 framing, the parts both directions share: opcodes, and encoding the frames the
// server sends. Server frames are never masked and never fragmented. No sockets here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "p2pcdn/bytes.hpp"

namespace p2pcdn::server {

namespace ws_opcode {
inline constexpr uint8_t kContinuation = 0x0;
inline constexpr uint8_t kText = 0x1;
inline constexpr uint8_t kBinary = 0x2;
inline constexpr uint8_t kClose = 0x8;
inline constexpr uint8_t kPing = 0x9;
inline constexpr uint8_t kPong = 0xA;
}  // namespace ws_opcode

inline constexpr size_t kMaxServerFrameHeader = 10;  // 2 bytes, then a 64-bit length
inline constexpr size_t kMaxControlPayload = 125;

// Writes the header of a final, unmasked frame into `out` (kMaxServerFrameHeader bytes of
// room) and returns its size: the length in 7, 16 or 64 bits, the shortest that fits.
size_t write_ws_frame_header(uint8_t* out, uint8_t opcode, uint64_t payload_size);

// A whole frame, header and payload: for pongs and close frames, which the server builds
// itself rather than forwarding.
std::vector<uint8_t> ws_frame(uint8_t opcode, ByteView payload);

// A close frame with `code` and `reason` (cut to fit the 125-byte control payload). For
// kNoStatus the frame has no payload, as the RFC requires.
std::vector<uint8_t> ws_close_frame(uint16_t code, std::string_view reason);

}  // namespace p2pcdn::server
