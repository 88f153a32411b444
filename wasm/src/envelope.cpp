#include "p2pcdn/envelope.hpp"

namespace p2pcdn {

Result<Envelope> open_envelope(ByteView message, uint8_t version, size_t max_message_size) {
  if (message.size < kEnvelopeSize) return Errc::kTruncated;
  ByteReader r(message);
  const uint8_t got_version = r.u8();
  const uint8_t type = r.u8();
  const uint16_t flags = r.u16();
  const uint32_t body_length = r.u32();
  if (got_version != version) return Errc::kBadVersion;
  // The size cap is checked on the header, before any body field is looked at.
  if (message.size > max_message_size || body_length > max_message_size) return Errc::kOversize;
  if (flags != 0) return Errc::kBadField;
  if (body_length != message.size - kEnvelopeSize) {
    return body_length > message.size - kEnvelopeSize ? Errc::kTruncated : Errc::kBadLength;
  }
  return Envelope{type, ByteView{message.data + kEnvelopeSize, body_length}};
}

size_t start_envelope(std::vector<uint8_t>& out, uint8_t version, uint8_t type) {
  const size_t pos = out.size();
  out.resize(pos + kEnvelopeSize);
  write_envelope(out.data() + pos, version, type, 0);
  return pos;
}

void finish_envelope(std::vector<uint8_t>& out, size_t header_pos) {
  const auto length = static_cast<uint32_t>(out.size() - header_pos - kEnvelopeSize);
  write_envelope(out.data() + header_pos, out[header_pos], out[header_pos + 1], length);
}

void write_envelope(uint8_t* out, uint8_t version, uint8_t type, uint32_t body_length) {
  out[0] = version;
  out[1] = type;
  out[2] = 0;
  out[3] = 0;
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(body_length >> (24 - 8 * i));
}

}  // namespace p2pcdn
