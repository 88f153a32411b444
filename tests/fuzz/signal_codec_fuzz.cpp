// Feeds arbitrary bytes to the signaling codec (signal.hpp) as the server and a page see them.
// Whole: the first byte picks the server's message size, the rest is one message.
// Split: the same rest cut into pieces (split_input.hpp), each one WebSocket message on one
// connection, in order, each decoded from an exact-size heap copy (a read past a message is an
// AddressSanitizer report). A RELAY is forwarded as the server does: a copy with its peer id
// overwritten in place (rewrite_relay_peer) by the sender's, the id of the connection's last
// WELCOME; the page must decode the same relay from that peer. Each piece that decodes is sent
// again cut in two at the point its control byte picks: the first part must be truncated, the
// rest is decoded as a message of its own.
// Whatever decodes must re-encode to exactly its bytes and decode again to the same message.
#include <algorithm>
#include <cstdlib>

#include "fuzz_checks.hpp"
#include "p2pcdn/signal.hpp"
#include "split_input.hpp"

using namespace p2pcdn;
using namespace p2pcdn::fuzz;

namespace {

// A decoded message re-encodes to exactly its bytes, and those decode to the same message.
void check_round_trip(const SignalMessage& message, ByteView bytes, size_t max) {
  check(bytes.size >= kEnvelopeSize && bytes.data[1] == static_cast<uint8_t>(signal_type(message)));
  auto encoded = encode_signal(message);
  check(encoded.ok() && same(encoded.value(), bytes));
  HeapCopy copy(ByteView(encoded.value()));
  auto again = decode_signal(copy.view(), max);
  check(again.ok() && again->index() == message.index());
  auto encoded_again = encode_signal(again.value());
  check(encoded_again.ok() && encoded_again.value() == encoded.value());
}

// One WebSocket connection: the server's message size, and the id the server gave it.
class Connection {
 public:
  explicit Connection(size_t max) : max_(max) { self_.fill(0x5a); }

  size_t max() const { return max_; }

  // Decodes one message; returns whether it was one.
  bool receive(ByteView message) {
    HeapCopy copy(message);
    auto decoded = decode_signal(copy.view(), max_);
    if (!decoded) {
      check(is_decode_error(decoded.error()));
      return false;
    }
    check(copy.size() <= max_);
    check_round_trip(decoded.value(), copy.view(), max_);
    if (auto* welcome = std::get_if<Welcome>(&decoded.value())) self_ = welcome->peer_id;
    if (auto* relay = std::get_if<Relay>(&decoded.value())) forward(*relay, copy.view());
    return true;
  }

 private:
  // The server forwards the bytes as they came with the target's id replaced by the sender's;
  // the target decodes them (under the same limit: the server relays what it accepted).
  void forward(const Relay& relay, ByteView message) {
    HeapCopy forwarded(message);
    rewrite_relay_peer(forwarded.data(), self_);
    auto decoded = decode_signal(forwarded.view(), max_);
    check(decoded.ok());
    const Relay* got = std::get_if<Relay>(&decoded.value());
    check(got != nullptr && got->peer == self_ && got->kind == relay.kind &&
          got->payload == relay.payload);
    Relay expected = relay;
    expected.peer = self_;
    auto encoded = encode_signal(expected);
    check(encoded.ok() && same(encoded.value(), forwarded.view()));
  }

  size_t max_;
  PeerId self_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the server's limit: the default, or a small one so that oversize
  // messages are within a short input's reach.
  const size_t max = data[0] & 2 ? 512 : kDefaultMaxSignalMessage;
  const ByteView in(data + 1, size - 1);

  Connection whole(max);
  whole.receive(in);

  Connection connection(max);
  for_each_piece(in, [&](const Piece& piece) {
    if (!connection.receive(piece.bytes)) return;
    // The same message cut in two: a prefix is never a message, the rest is whatever it is.
    const size_t cut = cut_point(piece.bytes.size, piece.control);
    HeapCopy first(ByteView(piece.bytes.data, cut));
    auto truncated = decode_signal(first.view(), connection.max());
    check(!truncated.ok() && truncated.error() == Errc::kTruncated);
    connection.receive(ByteView(piece.bytes.data + cut, piece.bytes.size - cut));
  });
  return 0;
}
