// The 8-byte envelope both protocols share (peer wire and signaling), so one checked
// header parser guards every message before any field is read:
//   version u8 | type u8 | flags u16 (must be 0 in version 1) | body length u32
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/result.hpp"

namespace p2pcdn {

inline constexpr size_t kEnvelopeSize = 8;

struct Envelope {
  uint8_t type = 0;
  ByteView body;
};

// Checks, in order: header present, version, total size against max_message_size,
// flags, declared body length against the bytes that arrived. Type is not checked here.
Result<Envelope> open_envelope(ByteView message, uint8_t version, size_t max_message_size);

// Appends a header with a zero length; finish_envelope() patches the length once the
// body is written. Returns the header's position in out.
size_t start_envelope(std::vector<uint8_t>& out, uint8_t version, uint8_t type);
void finish_envelope(std::vector<uint8_t>& out, size_t header_pos);

// Writes a complete header into out[0..kEnvelopeSize).
void write_envelope(uint8_t* out, uint8_t version, uint8_t type, uint32_t body_length);

}  // namespace p2pcdn
