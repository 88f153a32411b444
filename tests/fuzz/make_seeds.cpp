// Writes the split-input seeds (split_input.hpp) into a directory, encoded by the codec itself:
//   cmake --build <dir> --target fuzz_seeds && <dir>/tests/fuzz/fuzz_seeds tests/fuzz/seeds
// frame-split-*: a data-channel session for frame_decoder_fuzz; signal-split-*: a few messages
// of each signaling type, and a session, for signal_codec_fuzz; assembler-split-*: transfers
// for chunk_assembler_fuzz's message mode; scheduler-*: operation streams for
// piece_scheduler_fuzz (piece_scheduler_input.hpp). One shared folder: every fuzzer starts from
// all.
#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include "p2pcdn/frame.hpp"
#include "p2pcdn/signal.hpp"
#include "piece_scheduler_input.hpp"

using namespace p2pcdn;

namespace {

class Seed {
 public:
  explicit Seed(uint8_t first) { bytes_.push_back(first); }

  // One piece: control u8, length u16, bytes.
  Seed& piece(const std::vector<uint8_t>& message, uint8_t control = 0) {
    bytes_.push_back(control);
    bytes_.push_back(static_cast<uint8_t>(message.size() >> 8));
    bytes_.push_back(static_cast<uint8_t>(message.size()));
    bytes_.insert(bytes_.end(), message.begin(), message.end());
    return *this;
  }
  // Bytes as they are, for inputs not cut in pieces.
  Seed& raw(const std::vector<uint8_t>& bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  // The same message as two pieces, cut after `at` bytes.
  Seed& cut(const std::vector<uint8_t>& message, size_t at, uint8_t control = 0) {
    piece(std::vector<uint8_t>(message.begin(), message.begin() + at), control);
    return piece(std::vector<uint8_t>(message.begin() + at, message.end()), control);
  }

  bool write(const std::string& dir, const char* name) const {
    const std::string path = dir + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(bytes_.data(), 1, bytes_.size(), f) == bytes_.size();
    return std::fclose(f) == 0 && ok;
  }

 private:
  std::vector<uint8_t> bytes_;
};

std::vector<uint8_t> frame(const Frame& f) {
  return encode_frame(f).value();
}

std::vector<uint8_t> signal(const SignalMessage& m) {
  return encode_signal(m).value();
}

ResourceId id_of(uint8_t n) {
  ResourceId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(n * 37 + i);
  return id;
}

PeerId peer_of(uint8_t n) {
  PeerId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(n * 17 + i);
  return id;
}

// chunk_assembler_fuzz's true body.
uint8_t body_byte(uint32_t id, uint64_t at) {
  return static_cast<uint8_t>(id * 31 + at * 7);
}

std::vector<uint8_t> data(uint32_t id, uint64_t offset, size_t length, bool lie = false) {
  std::vector<uint8_t> payload(length);
  for (size_t i = 0; i < length; ++i) payload[i] = body_byte(id, offset + i);
  if (lie) payload[length / 2] ^= 1;
  return frame(Data{id, offset, ByteView(payload)});
}

std::vector<uint8_t> request(uint32_t id, uint64_t offset, uint64_t length, bool hashed) {
  Request r{id, id_of(1), {}, offset, length};
  r.content_hash[0] = hashed ? 1 : 0;
  return frame(r);
}

// Control bytes of chunk_assembler_fuzz's message mode.
uint8_t on(uint32_t peer, uint8_t ms = 0, bool cut = false) {
  return static_cast<uint8_t>((peer - 10) | (cut ? 2 : 0) | ms << 2);
}

// piece_scheduler_fuzz's input: the layout and limits, then operations. Pieces, peers and
// clock steps are numbered as piece_scheduler_input.hpp says (a piece below the piece count is
// itself, a peer is an index into kPeers, clock 7 is 50 ms, 10 is 1 s, 11 is 5 s, 15 back).
namespace sched {

using namespace p2pcdn::fuzz::pieces;

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// kind 0: count % 64 + 1 pieces of (size + 1) << shift bytes, the last tail % piece + 1.
Seed layout(uint8_t kind, uint16_t count, uint16_t size, uint8_t shift, uint16_t tail,
            uint8_t in_flight, uint16_t queue_ms, uint8_t copies, uint8_t failures) {
  std::vector<uint8_t> out;
  put16(out, count);
  put16(out, size);
  out.push_back(shift);
  put16(out, tail);
  out.push_back(in_flight);
  put16(out, queue_ms);
  out.push_back(copies);
  out.push_back(failures);
  Seed seed(kind);
  seed.raw(out);
  return seed;
}

std::vector<uint8_t> op(PieceOp op, uint8_t clock = 0, std::initializer_list<uint8_t> args = {}) {
  std::vector<uint8_t> out{op_code(op, clock)};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

std::vector<uint8_t> need(uint16_t first, uint16_t last, uint8_t clock = 0) {
  std::vector<uint8_t> out = op(kNeed, clock);
  put16(out, first);
  put16(out, last);
  return out;
}

std::vector<uint8_t> have(uint16_t piece, uint8_t clock = 0) {
  std::vector<uint8_t> out = op(kHave, clock);
  put16(out, piece);
  return out;
}

std::vector<uint8_t> peer_op(PieceOp o, uint8_t peer, uint8_t clock = 0) {
  return op(o, clock, {peer});
}

// done/failed/cancel of `piece` on `peer`, in flight there or not.
std::vector<uint8_t> pair_op(PieceOp o, uint8_t peer, uint16_t piece, uint8_t clock = 0) {
  std::vector<uint8_t> out = op(o, clock, {static_cast<uint8_t>(0x80 | peer)});
  put16(out, piece);
  return out;
}

// set_pieces with pieces first..last, of the right size unless told.
std::vector<uint8_t> pieces(uint8_t peer, uint16_t first, uint16_t last,
                            BitsLength length = kBitsRightSize, bool spare = false) {
  std::vector<uint8_t> out = op(kSetPieces, 0, {peer, bits_mode(length, kBitsRange, spare)});
  put16(out, first);
  put16(out, last);
  return out;
}

std::vector<uint8_t> fill(uint8_t peer, uint8_t byte, BitsLength length = kBitsRightSize,
                          bool spare = false) {
  return op(kSetPieces, 0, {peer, bits_mode(length, kBitsFill, spare), byte});
}

}  // namespace sched

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <seed directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  bool ok = true;

  // frame_decoder_fuzz: first byte 0 (peer wire, 256 KiB) or 2 (16 KiB until HELLO).
  const auto response =
      frame(ResponseHead{7, 100, "content-type: text/css\ncache-control: max-age=60\n"});
  ok &= Seed(0)
            .piece(frame(Hello{1, 64 * 1024, kCapByteRanges}), 5)
            .piece(frame(Have{HaveOp::kReplace, {id_of(1), id_of(2)}}), 9)
            .piece(frame(Request{7, id_of(1), id_of(3), 0, kToEnd}), 40)
            .piece(response, 30)
            .cut(data(7, 0, 60), 14)
            .piece(data(7, 60, 40), 3)
            .piece(frame(Ping{42, 1700000000000}))
            .piece(frame(Pong{42, 1700000000000}), 11)
            .piece(frame(Have{HaveOp::kRemove, {id_of(2)}}))
            .write(dir, "frame-split-session");
  // A large file in pieces: what a partial holder announces, then a piece's ranged REQUEST.
  ok &= Seed(0)
            .piece(frame(Hello{1, 64 * 1024, kCapByteRanges | kCapPieces}), 5)
            .piece(frame(HavePieces{id_of(3), 10, {0x80, 0x40}}), 7)
            .cut(frame(HavePieces{id_of(3), 9, {0xff, 0x80}}), 20)
            .piece(frame(Request{11, id_of(3), id_of(4), 262144, 262144}), 12)
            .write(dir, "frame-split-pieces");
  ok &= Seed(2)
            .piece(frame(Request{9, id_of(2), id_of(4), 1000, 500}), 77)
            .piece(frame(NotFound{9}), 1)
            .piece(frame(ErrorFrame{0, 2, "busy"}), 2)
            .piece(frame(Cancel{8}), 3)
            .piece(frame(Hello{1, 16 * 1024, 0}), 4)
            .write(dir, "frame-split-refusals");

  // signal_codec_fuzz: first byte 1 (64 KiB), a few messages of each type.
  const char* site = "https://example.com";
  ok &= Seed(1)
            .piece(signal(Join{site, "", 0}), 3)
            .piece(signal(Join{"https://cdn.example.org:8443", "videos", 1}), 20)
            .write(dir, "signal-split-join");
  ok &= Seed(1)
            .piece(signal(Welcome{peer_of(1), 15000, 5000}), 8)
            .piece(signal(Welcome{peer_of(2), 1000, 1}), 30)
            .write(dir, "signal-split-welcome");
  ok &= Seed(1)
            .piece(signal(Announce{{id_of(1)}}), 12)
            .piece(signal(Announce{{id_of(2), id_of(3), id_of(4)}}), 50)
            .piece(signal(Announce{}))
            .write(dir, "signal-split-announce");
  ok &= Seed(1)
            .piece(signal(Withdraw{{id_of(3), id_of(4)}}), 40)
            .piece(signal(Withdraw{}))
            .write(dir, "signal-split-withdraw");
  ok &= Seed(1)
            .piece(signal(Lookup{1, id_of(1), 5}), 10)
            .piece(signal(Lookup{0xffffffff, id_of(2), 0xffff}), 33)
            .write(dir, "signal-split-lookup");
  ok &= Seed(1)
            .piece(signal(Peers{1, id_of(1), {peer_of(3), peer_of(4), peer_of(5)}}), 44)
            .piece(signal(Peers{2, id_of(2), {}}), 7)
            .write(dir, "signal-split-peers");
  ok &=
      Seed(1)
          .piece(signal(Relay{peer_of(3), RelayKind::kOffer, "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"}),
                 25)
          .piece(signal(Relay{peer_of(3), RelayKind::kAnswer, "v=0\r\n"}), 9)
          .piece(signal(Relay{peer_of(4), RelayKind::kCandidate,
                              R"({"candidate":"candidate:1 1 udp 1 10.0.0.1 5000 typ host"})"}),
                 60)
          .piece(signal(Relay{peer_of(4), RelayKind::kBye, ""}), 1)
          .write(dir, "signal-split-relay");
  ok &= Seed(1)
            .piece(signal(Heartbeat{1700000000000}), 4)
            .piece(signal(Heartbeat{0}), 1)
            .write(dir, "signal-split-heartbeat");
  ok &= Seed(1)
            .piece(signal(HeartbeatAck{1700000000000}), 6)
            .piece(signal(HeartbeatAck{~uint64_t{0}}), 2)
            .write(dir, "signal-split-heartbeat-ack");
  ok &= Seed(1)
            .piece(signal(SignalError{6, 1, "forbidden site"}), 13)
            .piece(signal(SignalError{3, 7, "target busy: relays dropped"}), 21)
            .piece(signal(SignalError{1, 0, ""}))
            .write(dir, "signal-split-error");
  ok &= Seed(1).piece(signal(Leave{})).piece(signal(Leave{}), 1).write(dir, "signal-split-leave");
  // A connection's life, under a 512-byte limit (first byte 3), with a relay cut in two.
  const auto offer = signal(Relay{peer_of(6), RelayKind::kOffer, "v=0\r\ns=-\r\nt=0 0\r\n"});
  ok &= Seed(3)
            .piece(signal(Join{site, "", 0}), 2)
            .piece(signal(Welcome{peer_of(7), 15000, 5000}), 3)
            .piece(signal(Announce{{id_of(1), id_of(2)}}), 4)
            .piece(signal(Lookup{3, id_of(1), 8}), 5)
            .piece(signal(Peers{3, id_of(1), {peer_of(6)}}), 6)
            .piece(offer, 7)
            .cut(offer, 20, 8)
            .piece(signal(Heartbeat{5}), 9)
            .piece(signal(HeartbeatAck{5}), 10)
            .piece(signal(Withdraw{{id_of(2)}}), 11)
            .piece(signal(Leave{}), 12)
            .write(dir, "signal-split-session");

  // chunk_assembler_fuzz, message mode (first byte odd).
  ok &= Seed(1)
            // A hashed range of request 1 from peer 10 in two chunks, the second cut in two
            // (neither part is a frame) and then sent whole: verified.
            .piece(request(1, 0, 100, true), on(10))
            .piece(data(1, 0, 40), on(10, 3))
            .piece(data(1, 40, 60), on(10, 2, true))
            .piece(data(1, 40, 60), on(10, 2))
            // Request 2 to peer 11, unhashed: a foreign chunk from 10, then its own, cancelled.
            .piece(request(2, 1000, 300, false), on(11))
            .piece(data(2, 1000, 100), on(10, 1))
            .piece(data(2, 1000, 100), on(11, 1))
            .piece(frame(Cancel{2}), on(11))
            // Request 3 to peer 11 gets nothing and expires; NOT_FOUND for one never opened.
            .piece(request(3, 0, 4000, true), on(11))
            .piece(frame(NotFound{4}), on(10, 63))
            .write(dir, "assembler-split-transfers");
  ok &= Seed(3)
            // A lie: the last chunk has a flipped byte and the hash does not match.
            .piece(request(5, 200, 50, true), on(11))
            .piece(data(5, 200, 30), on(11, 1))
            .cut(data(5, 230, 20, true), 20, on(11, 1))
            .piece(data(5, 230, 20, true), on(11, 1))
            // A drip: a few bytes per window until too slow.
            .piece(request(6, 0, 3000, false), on(10))
            .piece(data(6, 0, 10), on(10, 10))
            .piece(data(6, 10, 10), on(10, 30))
            .piece(data(6, 20, 10), on(10, 30))
            .piece(frame(ErrorFrame{6, 3, "internal"}), on(10))
            .write(dir, "assembler-split-hostile");

  // piece_scheduler_fuzz. Streaming 16 pieces of 1 MiB from two whole holders (4 in flight,
  // 1 s of work, 2 copies, 2 failures), a seek midway, done at different speeds.
  {
    using namespace sched;
    ok &= layout(0, 15, 0xffff, 4, 0, 4, 1000, 2, 2)
              .raw(need(0, 15))
              .raw(peer_op(kAddPeer, 0))
              .raw(peer_op(kAddPeer, 1))
              .raw(op(kNextAll))
              .raw(peer_op(kDoneAll, 0, 7))
              .raw(peer_op(kDoneAll, 1, 9))
              .raw(op(kNextAll))
              .raw(need(8, 11, 3))
              .raw(op(kNextAll))
              .raw(peer_op(kDoneAll, 0, 6))
              .raw(op(kNextAll))
              .raw(peer_op(kDoneAll, 1, 10))
              .raw(peer_op(kDoneAll, 0, 5))
              .raw(op(kNextAll))
              .raw(op(kOrphans))
              .raw(peer_op(kDoneAll, 0, 6))
              .raw(peer_op(kDoneAll, 1, 6))
              .raw(op(kNextAll))
              .raw(peer_op(kDoneAll, 1, 8))
              .raw(peer_op(kDoneAll, 0, 8))
              .write(dir, "scheduler-stream");
    // Partial holders of 40 pieces of 256 KiB, the last one shorter: halves, a bitfield one
    // byte too long, one with spare bits, a pattern; orphans taken from the origin; a holder
    // that announces it holds nothing any more.
    ok &= layout(0, 39, 0xffff, 2, 1000, 3, 2000, 2, 2)
              .raw(pieces(0, 0, 19))
              .raw(pieces(1, 20, 35))
              .raw(fill(2, 0xff, kBitsOneMore))
              .raw(fill(3, 0xff, kBitsRightSize, true))
              .raw(op(kSetPieces, 0, {4, bits_mode(kBitsRightSize, kBitsCycled), 1, 0xaa, 0x55}))
              .raw(need(36, 39))
              .raw(need(10, 30))
              .raw(op(kOrphans))
              .raw(op(kNextAll))
              .raw(pair_op(kDone, 0, 10, 7))
              .raw(pair_op(kCancel, 1, 20))
              .raw(need(0, 39, 3))
              .raw(op(kNextAll))
              .raw(fill(0, 0))
              .raw(op(kOrphans))
              .raw(op(kFromOrigin, 4))
              .raw(peer_op(kDoneAll, 4, 7))
              .raw(peer_op(kDoneAll, 1, 8))
              .raw(op(kNextAll))
              .raw(peer_op(kRemovePeer, 1))
              .raw(op(kNextAll, 9))
              .raw(peer_op(kDoneAll, 4, 7))
              .write(dir, "scheduler-partial");
    // A slow whole holder's overdue piece copied to an idle partial holder, whose copy wins;
    // then failures until the slow one is dropped, removed and back with a new HAVE.
    ok &= layout(0, 9, 0xffff, 4, 0, 4, 1000, 2, 2)
              .raw(peer_op(kAddPeer, 0))
              .raw(pieces(1, 0, 3))
              .raw(need(0, 9))
              .raw(peer_op(kNext, 0))
              .raw(peer_op(kNext, 0))
              .raw(peer_op(kNext, 1))
              .raw(peer_op(kNext, 1))
              .raw(pair_op(kDone, 1, 2, 7))
              .raw(pair_op(kDone, 1, 3, 7))
              .raw(peer_op(kNext, 1))
              .raw(pair_op(kDone, 0, 0, 10))
              .raw(peer_op(kNext, 0))
              .raw(peer_op(kNext, 1, 11))
              .raw(pair_op(kDone, 1, 1, 8))
              .raw(peer_op(kNext, 0))
              .raw(pair_op(kFailed, 0, 4, 9))
              .raw(peer_op(kNext, 0))
              .raw(pair_op(kDone, 2, 5))
              .raw(pair_op(kFailed, 0, 5, 15))
              .raw(peer_op(kNext, 0))
              .raw(peer_op(kRemovePeer, 0))
              .raw(peer_op(kAddPeer, 0))
              .raw(peer_op(kNext, 0))
              .raw(op(kOrphans))
              .raw(peer_op(kAddPeer, 2))
              .raw(op(kNextAll))
              .raw(have(9))
              .raw(op(kNextAll, 14))
              .raw(peer_op(kDoneAll, 2, 4))
              .write(dir, "scheduler-rescue");
    // Layouts that give no pieces (a file one piece short; more pieces than the cap) and a
    // consistent one of two pieces of 2^63 bytes, each driven a little.
    ok &= layout(5, 7, 99, 0, 0, 2, 100, 1, 1)
              .raw(op(kNeedAll))
              .raw(peer_op(kAddPeer, 0))
              .raw(op(kNextAll))
              .raw(fill(0, 0xff))
              .raw(have(0))
              .write(dir, "scheduler-short-file");
    ok &= layout(7, 2, 0, 0, 0, 2, 100, 1, 1)
              .raw(op(kNeedAll))
              .raw(pieces(3, 0, 0))
              .raw(op(kNextAll))
              .write(dir, "scheduler-over-cap");
    ok &= layout(7, 3, 0, 0, 0, 8, 0xffff, 4, 3)
              .raw(op(kNeedAll))
              .raw(peer_op(kAddPeer, 4))
              .raw(pieces(5, 1, 1))
              .raw(op(kNextAll))
              .raw(peer_op(kDoneAll, 5, 12))
              .raw(op(kNextAll, 13))
              .raw(pair_op(kFailed, 4, 1))
              .raw(op(kNextAll))
              .write(dir, "scheduler-huge-pieces");
  }

  if (!ok) std::fprintf(stderr, "could not write the seeds into %s\n", dir.c_str());
  return ok ? 0 : 1;
}
