// Feeds arbitrary bytes to the server's WebSocket frame reader twice: whole, and in pieces
// of 1 to 17 bytes chosen by the input. Both ways must report the same events and the same
// error (read boundaries are the network's, not the client's), no message may pass the
// maximum, no ping carry more than a control frame holds, and nothing may follow a close.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "close_codes.hpp"
#include "ws_frame.hpp"
#include "ws_frame_reader.hpp"

using namespace p2pcdn;
using namespace p2pcdn::server;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

class Recorder final : public WsFrameHandler {
 public:
  explicit Recorder(uint32_t max) : max_(max) {}
  void on_message(bool text, ByteView payload) override {
    check(!closed_ && payload.size <= max_);
    record(text ? 't' : 'b', payload);
  }
  void on_ping(ByteView payload) override {
    check(!closed_ && payload.size <= kMaxControlPayload);
    record('p', payload);
  }
  void on_close(uint16_t code, std::string_view reason) override {
    check(!closed_ && reason.size() <= kMaxControlPayload - 2);
    closed_ = true;
    record('c', ByteView::of(reason));
    events.push_back(std::to_string(code));
  }
  std::vector<std::string> events;

 private:
  void record(char kind, ByteView payload) {
    events.push_back(kind + std::string(reinterpret_cast<const char*>(payload.data), payload.size));
  }
  uint32_t max_;
  bool closed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // The first byte seeds the split points, the second picks the maximum message size.
  uint32_t random = data[0];
  const uint32_t max = 16 + 64u * data[1];
  const std::vector<uint8_t> stream(data + 2, data + size);

  std::vector<uint8_t> whole = stream;  // the reader unmasks in place
  Recorder once(max);
  WsFrameReader reader_once(max);
  const uint16_t error_once = reader_once.feed(whole.data(), whole.size(), once);

  std::vector<uint8_t> split = stream;
  Recorder pieces(max);
  WsFrameReader reader_pieces(max);
  uint16_t error_pieces = 0;
  for (size_t at = 0; at < split.size() && error_pieces == 0;) {
    random = random * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(1 + (random >> 16) % 17, split.size() - at);
    error_pieces = reader_pieces.feed(split.data() + at, n, pieces);
    at += n;
  }

  check(error_once == error_pieces);
  check(once.events == pieces.events);
  check(error_once == 0 || error_once == close_code::kProtocolError ||
        error_once == close_code::kInvalidData || error_once == close_code::kTooBig);
  check(reader_once.failed() == (error_once != 0));
  return 0;
}
