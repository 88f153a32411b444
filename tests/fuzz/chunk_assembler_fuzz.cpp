// Drives a ChunkAssembler with an arbitrary sequence of opens, chunks, releases and
// expiries, checking its invariants after every step: bytes_allocated never passes the
// cap, a completed, verified body is exactly the bytes that were sent, bytes from a peer
// a request was not sent to change nothing, and what expires or fails its hash is closed.
// The first byte picks how the rest is read:
// - even: operations, 6 bytes each (op, id, x, y), with truthful or flipped chunks built here;
// - odd: data-channel messages from two peers (split_input.hpp), each decoded by decode_frame
//   as the page does, so the assembler is driven through the real decoder with arbitrary
//   splits. A piece's control byte: bit 0, the link it came on (peer 10 or 11); bit 1, it
//   arrives cut in two messages (at the point control picks); bits 2-7, milliseconds that
//   pass before it. A REQUEST stands for one the page sent on that link: begin() with its id
//   and range, owned by that peer, expecting the hash of the true body when content_hash[0] is
//   odd. A DATA is add() from that peer; CANCEL, NOT_FOUND and ERROR release() the request.
//   After every message the page's timer runs expire().
// The true body of request `id` has body_byte(id, at) at absolute offset `at`.
#include <cstdlib>
#include <unordered_map>
#include <variant>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/chunk_assembler.hpp"
#include "p2pcdn/frame.hpp"
#include "split_input.hpp"

using namespace p2pcdn;
using namespace p2pcdn::fuzz;

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

AssemblerLimits fuzz_limits() {
  AssemblerLimits limits;
  limits.max_total_bytes = 1 << 16;
  limits.max_fragments = 8;
  limits.max_requests = 4;
  limits.first_byte_timeout_ms = 50;
  limits.min_bytes_per_second = 20000;
  limits.rate_window_ms = 40;
  return limits;
}

// The assembler under test, with what the page knows about each request it opened.
class Harness {
 public:
  Harness() : limits_(fuzz_limits()), a_(limits_) {}

  // Opens a request for bytes [offset, offset + length) of the true body of `id`.
  void open(uint32_t id, PeerHandle owner, uint64_t offset, uint64_t length, bool hashed,
            uint64_t now) {
    RequestShape shape{offset, length, std::nullopt};
    if (hashed && length <= limits_.max_total_bytes) {
      std::vector<uint8_t> body(length);
      for (uint64_t i = 0; i < length; ++i) body[i] = body_byte(id, offset + i);
      shape.expected_hash = sha256(ByteView(body));
    }
    const bool was_open = a_.progress(id).has_value();
    const Errc error = a_.begin(id, owner, shape, now);
    check(error != Errc::kOk || !was_open);
    if (error == Errc::kOk) offsets_[id] = offset;
    check_limits();
  }

  void chunk(PeerHandle from, uint32_t id, uint64_t offset, ByteView payload, uint64_t now) {
    const auto before = a_.progress(id);
    const uint64_t allocated = a_.bytes_allocated();
    auto result = a_.add(from, id, offset, payload, now);
    if (!before) check(!result.ok() && result.error() == Errc::kUnknownRequest);
    if (before && from != before->owner) {  // foreign: nothing written, nothing changed
      check(!result.ok() && result.error() == Errc::kForeignRequest);
      const auto after = a_.progress(id);
      check(after.has_value() && after->received == before->received &&
            after->hashed_upto == before->hashed_upto &&
            after->last_progress_ms == before->last_progress_ms);
      check(a_.bytes_allocated() == allocated);
    }
    if (!result.ok() && result.error() == Errc::kHashMismatch) check(!a_.progress(id));
    const auto progress = a_.progress(id);
    if (progress) check(progress->received <= progress->length);
    if (result.ok() && result.value() == ChunkOutcome::kComplete) {
      auto body = a_.body(id);
      check(body.ok() && progress.has_value() && progress->received == progress->length);
      if (progress->hashed_upto == progress->length) {  // verified: must be the truth
        const uint64_t offset = offsets_.at(id);
        for (size_t i = 0; i < body->size; ++i) check(body->data[i] == body_byte(id, offset + i));
      }
    }
    check_limits();
  }

  void release(uint32_t id) {
    a_.release(id);
    check(!a_.progress(id));
    check_limits();
  }

  void expire(uint64_t now) {
    for (const Expired& e : a_.expire(now)) {
      check(e.reason == Errc::kNoFirstByte || e.reason == Errc::kTooSlow);
      check(!a_.progress(e.request_id));
    }
    check_limits();
  }

 private:
  void check_limits() const {
    check(a_.bytes_allocated() <= limits_.max_total_bytes);
    check(a_.open_requests() <= limits_.max_requests);
  }

  AssemblerLimits limits_;
  ChunkAssembler a_;
  std::unordered_map<uint32_t, uint64_t> offsets_;  // range start of each request opened
};

void run_operations(ByteView in) {
  Harness h;
  ByteReader r(in);
  uint64_t now = 0;
  std::vector<uint8_t> chunk;
  while (r.remaining() >= 6) {
    const uint8_t op = r.u8();
    const uint32_t id = r.u8() % 6;
    const uint16_t x = r.u16();
    const uint16_t y = r.u16();
    now += op >> 4;
    switch (op & 3) {
      case 0:  // open: honest bodies get the right hash, some get none
        h.open(id, owner_of(id), 0, x % 5000 + 1, (y & 1) != 0, now);
        break;
      case 1: {  // chunk at x of length y (truthful bytes; bit 15 of y flips one)
        chunk.resize(y % 3000);
        for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = body_byte(id, x + i);
        if ((y & 0x8000) != 0 && !chunk.empty()) chunk[0] ^= 1;
        // Bit 14 of y: the chunk comes from a peer the request was not sent to.
        const PeerHandle from = (y & 0x4000) != 0 ? owner_of(id) + 1 : owner_of(id);
        h.chunk(from, id, x, ByteView(chunk), now);
        break;
      }
      case 2:
        h.release(id);
        break;
      case 3:
        h.expire(now);
        break;
    }
  }
}

// One message on the link from `peer`, decoded as the page decodes it.
void deliver(Harness& h, PeerHandle peer, ByteView message, uint64_t now) {
  HeapCopy copy(message);
  auto frame = decode_frame(copy.view());
  if (!frame) return;
  if (auto* request = std::get_if<Request>(&frame.value())) {
    h.open(request->request_id, peer, request->offset, request->length,
           (request->content_hash[0] & 1) != 0, now);
  } else if (auto* data = std::get_if<Data>(&frame.value())) {
    h.chunk(peer, data->request_id, data->offset, data->payload, now);
  } else if (auto* cancel = std::get_if<Cancel>(&frame.value())) {
    h.release(cancel->request_id);
  } else if (auto* not_found = std::get_if<NotFound>(&frame.value())) {
    h.release(not_found->request_id);
  } else if (auto* error = std::get_if<ErrorFrame>(&frame.value())) {
    h.release(error->request_id);
  }
}

void run_messages(ByteView in) {
  Harness h;
  uint64_t now = 0;
  for_each_piece(in, [&](const Piece& piece) {
    const PeerHandle peer = 10 + (piece.control & 1);
    now += piece.control >> 2;
    if ((piece.control & 2) != 0 && piece.bytes.size >= 2) {
      const size_t cut = cut_point(piece.bytes.size, piece.control);
      deliver(h, peer, ByteView(piece.bytes.data, cut), now);
      deliver(h, peer, ByteView(piece.bytes.data + cut, piece.bytes.size - cut), now);
    } else {
      deliver(h, peer, piece.bytes, now);
    }
    h.expire(now);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteView in(data + 1, size - 1);
  if (data[0] & 1) {
    run_messages(in);
  } else {
    run_operations(in);
  }
  return 0;
}
