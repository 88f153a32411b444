// Drives a ChunkAssembler with an arbitrary sequence of opens, chunks, releases and
// expiries, checking its invariants after every step: bytes_allocated never passes the
// cap, a completed, verified body is exactly the bytes that were sent, and bytes from a peer
// a request was not sent to change nothing.
#include <cstdlib>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/chunk_assembler.hpp"

using namespace p2pcdn;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

uint8_t body_byte(uint32_t id, uint64_t at) {
  return static_cast<uint8_t>(id * 31 + at * 7);
}

// Requests 0, 2, 4 go to one peer, 1, 3, 5 to another: rates are judged per peer.
PeerHandle owner_of(uint32_t id) {
  return 10 + id % 2;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  AssemblerLimits limits;
  limits.max_total_bytes = 1 << 16;
  limits.max_fragments = 8;
  limits.max_requests = 4;
  limits.first_byte_timeout_ms = 50;
  limits.min_bytes_per_second = 20000;
  limits.rate_window_ms = 40;
  ChunkAssembler a(limits);
  ByteReader r(ByteView(data, size));
  uint64_t now = 0;
  std::vector<uint8_t> chunk;
  while (r.remaining() >= 6) {
    const uint8_t op = r.u8();
    const uint32_t id = r.u8() % 6;
    const uint16_t x = r.u16();
    const uint16_t y = r.u16();
    now += op >> 4;
    switch (op & 3) {
      case 0: {  // open: honest bodies get the right hash, some get none
        const uint64_t length = x % 5000 + 1;
        std::vector<uint8_t> body(length);
        for (uint64_t i = 0; i < length; ++i) body[i] = body_byte(id, i);
        RequestShape shape{0, length, std::nullopt};
        if (y & 1) shape.expected_hash = sha256(ByteView(body));
        a.begin(id, owner_of(id), shape, now);
        break;
      }
      case 1: {  // chunk at x of length y (truthful bytes; bit 15 of y flips one)
        chunk.resize(y % 3000);
        for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = body_byte(id, x + i);
        const bool lie = (y & 0x8000) != 0 && !chunk.empty();
        if (lie) chunk[0] ^= 1;
        // Bit 14 of y: the chunk comes from a peer the request was not sent to.
        const PeerHandle from = (y & 0x4000) != 0 ? owner_of(id) + 1 : owner_of(id);
        const auto before = a.progress(id);
        auto result = a.add(from, id, x, ByteView(chunk), now);
        if (before && from != owner_of(id)) {
          check(!result.ok() && result.error() == Errc::kForeignRequest);
          check(a.progress(id)->received == before->received);
        }
        if (result.ok() && result.value() == ChunkOutcome::kComplete) {
          auto body = a.body(id);
          check(body.ok());
          auto progress = a.progress(id);
          check(progress.has_value());
          if (progress->hashed_upto == progress->length) {  // verified: must be the truth
            for (size_t i = 0; i < body->size; ++i) check(body->data[i] == body_byte(id, i));
          }
        }
        break;
      }
      case 2:
        a.release(id);
        break;
      case 3:
        a.expire(now);
        break;
    }
    check(a.bytes_allocated() <= limits.max_total_bytes);
    check(a.open_requests() <= limits.max_requests);
  }
  return 0;
}
