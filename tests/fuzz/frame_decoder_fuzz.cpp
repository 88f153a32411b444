// Feeds arbitrary bytes to the decoders twice.
// Whole: the first byte picks the decoder (peer wire or signaling) and the message size, the
// rest is one message.
// Split: the same rest cut into pieces (split_input.hpp), each one data-channel message on one
// link, decoded in order as peer wire frames: a HELLO sets the size later frames are decoded
// with, as negotiated_message_size() does. Each piece that decodes is sent again cut in two at
// the point its control byte picks: the first part must be truncated, the rest is decoded as a
// message of its own. Pieces are decoded from exact-size heap copies, so a read past a message
// is an AddressSanitizer report.
// Whatever decodes must re-encode to the same bytes (one codec, both directions) and decode
// again to the same message.
#include <algorithm>
#include <cstdlib>

#include "fuzz_checks.hpp"
#include "p2pcdn/frame.hpp"
#include "p2pcdn/signal.hpp"
#include "split_input.hpp"

using namespace p2pcdn;
using namespace p2pcdn::fuzz;

namespace {

// A decoded frame re-encodes to exactly its message, and that decodes to the same frame.
void check_frame_round_trip(const Frame& frame, ByteView message, size_t max) {
  auto bytes = encode_frame(frame);
  check(bytes.ok() && same(bytes.value(), message));
  HeapCopy copy(ByteView(bytes.value()));
  auto again = decode_frame(copy.view(), max);
  check(again.ok() && again->index() == frame.index());
  auto bytes_again = encode_frame(again.value());
  check(bytes_again.ok() && bytes_again.value() == bytes.value());
}

void fuzz_frame(ByteView in, size_t max) {
  auto frame = decode_frame(in, max);
  if (!frame) {
    check(is_decode_error(frame.error()));
    return;
  }
  check_frame_round_trip(frame.value(), in, max);
}

void fuzz_signal(ByteView in) {
  auto message = decode_signal(in);
  if (!message) {
    check(is_decode_error(message.error()));
    return;
  }
  auto bytes = encode_signal(message.value());
  check(bytes.ok() && same(bytes.value(), in));
  auto again = decode_signal(ByteView(bytes.value()));
  check(again.ok() && again->index() == message->index());
}

// One data channel's receiving side: the message size it decodes with, from its own HELLO and
// the last one the peer sent.
class Link {
 public:
  explicit Link(uint32_t local_max) : max_(local_max) { local_.max_message_size = local_max; }

  size_t max() const { return max_; }

  // Decodes one message; returns whether it was a frame.
  bool receive(ByteView message) {
    HeapCopy copy(message);
    auto frame = decode_frame(copy.view(), max_);
    if (!frame) {
      check(is_decode_error(frame.error()));
      return false;
    }
    check(copy.size() <= max_);
    check_frame_round_trip(frame.value(), copy.view(), max_);
    if (auto* hello = std::get_if<Hello>(&frame.value())) {
      max_ = negotiated_message_size(local_, *hello);
      check(max_ >= kMinMessageSize && max_ <= local_.max_message_size);
    }
    return true;
  }

 private:
  Hello local_;
  size_t max_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the decoder and the negotiated size, so one corpus covers both.
  const uint8_t selector = data[0];
  const ByteView in(data + 1, size - 1);
  const uint32_t local_max = selector & 2 ? kMinMessageSize : kDefaultMaxMessageSize;
  if (selector & 1) {
    fuzz_signal(in);
  } else {
    fuzz_frame(in, local_max);
  }

  Link link(local_max);
  for_each_piece(in, [&](const Piece& piece) {
    const size_t max = link.max();
    if (!link.receive(piece.bytes)) return;
    // The same frame cut in two messages: a prefix is never a frame, the rest is whatever it is.
    const size_t cut = cut_point(piece.bytes.size, piece.control);
    HeapCopy first(ByteView(piece.bytes.data, cut));
    auto truncated = decode_frame(first.view(), max);
    check(!truncated.ok() && truncated.error() == Errc::kTruncated);
    link.receive(ByteView(piece.bytes.data + cut, piece.bytes.size - cut));
  });
  return 0;
}
