// Feeds arbitrary bytes to both decoders. Whatever decodes must re-encode to the same
// bytes (one codec, both directions) and decode again to the same message.
#include <cstdlib>

#include "p2pcdn/frame.hpp"
#include "p2pcdn/signal.hpp"

using namespace p2pcdn;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void fuzz_frame(ByteView in, size_t max) {
  auto frame = decode_frame(in, max);
  if (!frame) return;
  auto bytes = encode_frame(frame.value());
  check(bytes.ok());
  check(bytes->size() == in.size && std::equal(bytes->begin(), bytes->end(), in.data));
  check(decode_frame(ByteView(bytes.value()), max).ok());
}

void fuzz_signal(ByteView in) {
  auto message = decode_signal(in);
  if (!message) return;
  auto bytes = encode_signal(message.value());
  check(bytes.ok());
  check(bytes->size() == in.size && std::equal(bytes->begin(), bytes->end(), in.data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the decoder and the negotiated size, so one corpus covers both.
  const uint8_t selector = data[0];
  const ByteView in(data + 1, size - 1);
  if (selector & 1) {
    fuzz_signal(in);
  } else {
    fuzz_frame(in, selector & 2 ? kMinMessageSize : kDefaultMaxMessageSize);
  }
  return 0;
}
