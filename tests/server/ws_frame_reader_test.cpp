// The RFC 6455 frame reader on hand-made client frames, in one piece and split every way.
#include "ws_frame_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "close_codes.hpp"
#include "ws_frame.hpp"
#include "ws_frames_for_tests.hpp"

namespace p2pcdn::server {
namespace {

using testing_frames::client_frame;
using testing_frames::Frames;

// Everything the reader reported, in order, as text: easy to compare across splits.
class Recorder final : public WsFrameHandler {
 public:
  void on_message(bool text, ByteView payload) override {
    events.push_back((text ? "text:" : "binary:") + as_string(payload));
  }
  void on_ping(ByteView payload) override { events.push_back("ping:" + as_string(payload)); }
  void on_close(uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
  std::vector<std::string> events;

 private:
  static std::string as_string(ByteView v) {
    return std::string(reinterpret_cast<const char*>(v.data), v.size);
  }
};

struct Result {
  std::vector<std::string> events;
  uint16_t error = 0;
};

// Feeds `bytes` in pieces of `piece` bytes (0: all at once); stops at the first error.
Result read_all(std::vector<uint8_t> bytes, size_t piece = 0, uint32_t max = 1 << 20) {
  WsFrameReader reader(max);
  Recorder recorder;
  Result result;
  if (piece == 0) piece = bytes.size() + 1;
  for (size_t at = 0; at < bytes.size() && result.error == 0; at += piece) {
    const size_t n = std::min(piece, bytes.size() - at);
    result.error = reader.feed(bytes.data() + at, n, recorder);
  }
  result.events = recorder.events;
  return result;
}

uint16_t error_of(std::vector<uint8_t> bytes, uint32_t max = 1 << 20) {
  return read_all(std::move(bytes), 0, max).error;
}

std::vector<uint8_t> close_payload(uint16_t code, const std::string& reason = "") {
  std::vector<uint8_t> p(2 + reason.size());
  p[0] = static_cast<uint8_t>(code >> 8);
  p[1] = static_cast<uint8_t>(code);
  std::copy(reason.begin(), reason.end(), p.begin() + 2);
  return p;
}

using Events = std::vector<std::string>;

TEST(WsFrameReader, OneFrameMessagesAreUnmasked) {
  auto r = read_all(Frames()
                        .add(client_frame(ws_opcode::kBinary, "hello"))
                        .add(client_frame(ws_opcode::kText, "héllo"))
                        .add(client_frame(ws_opcode::kBinary, ""))
                        .bytes);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.events, (Events{"binary:hello", "text:héllo", "binary:"}));
}

TEST(WsFrameReader, FragmentedMessageIsReassembledAroundControlFrames) {
  auto r = read_all(Frames()
                        .add(client_frame(ws_opcode::kText, "frag", false))
                        .add(client_frame(ws_opcode::kPing, "p1"))
                        .add(client_frame(ws_opcode::kContinuation, "men", false))
                        .add(client_frame(ws_opcode::kPong, "ignored"))
                        .add(client_frame(ws_opcode::kContinuation, "", false))
                        .add(client_frame(ws_opcode::kContinuation, "ted"))
                        .add(client_frame(ws_opcode::kBinary, "next"))
                        .bytes);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.events, (Events{"ping:p1", "text:fragmented", "binary:next"}));
}

TEST(WsFrameReader, EveryWayOfSplittingTheStreamGivesTheSameEvents) {
  const std::string big(70000, 'b');   // a 64-bit length
  const std::string medium(300, 'm');  // a 16-bit length
  const std::vector<uint8_t> stream =
      Frames()
          .add(client_frame(ws_opcode::kBinary, "one"))
          .add(client_frame(ws_opcode::kBinary, medium, false))
          .add(client_frame(ws_opcode::kPing, "mid"))
          .add(client_frame(ws_opcode::kContinuation, big))
          .add(client_frame(ws_opcode::kText, "two"))
          .add(client_frame(ws_opcode::kClose, close_payload(1000, "bye")))
          .bytes;
  const Events expected{"binary:one", "ping:mid", "binary:" + medium + big, "text:two",
                        "close:1000:bye"};
  for (size_t piece : {0, 1, 2, 3, 5, 7, 13, 64, 1000, 4096}) {
    auto r = read_all(stream, piece);
    EXPECT_EQ(r.error, 0) << piece;
    EXPECT_EQ(r.events, expected) << "pieces of " << piece;
  }
}

TEST(WsFrameReader, LengthsUseAllThreeEncodings) {
  for (size_t size : {125, 126, 65535, 65536, 100000}) {
    const std::string payload(size, 'x');
    auto r = read_all(client_frame(ws_opcode::kBinary, payload));
    ASSERT_EQ(r.events.size(), 1u) << size;
    EXPECT_EQ(r.events[0].size(), std::string("binary:").size() + size);
  }
}

TEST(WsFrameReader, CloseFramesCarryCodeAndReason) {
  EXPECT_EQ(read_all(client_frame(ws_opcode::kClose, close_payload(4000, "why"))).events,
            Events{"close:4000:why"});
  // No payload: "no status", which the echo leaves out too.
  EXPECT_EQ(read_all(client_frame(ws_opcode::kClose, "")).events,
            Events{"close:" + std::to_string(close_code::kNoStatus) + ":"});
  // Nothing after a close frame is read.
  auto r = read_all(Frames()
                        .add(client_frame(ws_opcode::kClose, close_payload(1000)))
                        .add(client_frame(ws_opcode::kBinary, "late"))
                        .add({0xFF, 0xFF})
                        .bytes);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.events, Events{"close:1000:"});
}

TEST(WsFrameReader, BadCloseFramesAreProtocolErrors) {
  EXPECT_EQ(error_of(client_frame(ws_opcode::kClose, std::string(1, '\x03'))),
            close_code::kProtocolError);  // half a code
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1014, 1015, 1016, 2999}) {
    EXPECT_EQ(error_of(client_frame(ws_opcode::kClose, close_payload(code))),
              close_code::kProtocolError)
        << code;
  }
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1011, 1013, 3000, 4999}) {
    EXPECT_EQ(error_of(client_frame(ws_opcode::kClose, close_payload(code))), 0) << code;
  }
  EXPECT_EQ(error_of(client_frame(ws_opcode::kClose, close_payload(1000, "\xC3"))),
            close_code::kInvalidData);
}

TEST(WsFrameReader, UnmaskedFramesAreRejected) {
  auto frame = client_frame(ws_opcode::kBinary, "hi");
  std::vector<uint8_t> unmasked{frame[0], static_cast<uint8_t>(frame[1] & 0x7F), 'h', 'i'};
  EXPECT_EQ(error_of(unmasked), close_code::kProtocolError);
}

TEST(WsFrameReader, ReservedBitsAreRejected) {
  for (uint8_t bit : {0x40, 0x20, 0x10}) {
    auto frame = client_frame(ws_opcode::kBinary, "hi");
    frame[0] |= bit;
    EXPECT_EQ(error_of(frame), close_code::kProtocolError) << int(bit);
  }
}

TEST(WsFrameReader, UnknownOpcodesAreRejected) {
  for (uint8_t opcode : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    EXPECT_EQ(error_of(client_frame(opcode, "x")), close_code::kProtocolError) << int(opcode);
  }
}

TEST(WsFrameReader, ControlFramesMustBeShortAndWhole) {
  EXPECT_EQ(error_of(client_frame(ws_opcode::kPing, std::string(125, 'p'))), 0);
  EXPECT_EQ(error_of(client_frame(ws_opcode::kPing, std::string(126, 'p'))),
            close_code::kProtocolError);
  EXPECT_EQ(error_of(client_frame(ws_opcode::kPing, "p", false)), close_code::kProtocolError);
}

TEST(WsFrameReader, FragmentsMustFollowTheRules) {
  // A continuation with no message started.
  EXPECT_EQ(error_of(client_frame(ws_opcode::kContinuation, "x")), close_code::kProtocolError);
  // A new message before the last one ended.
  EXPECT_EQ(error_of(Frames()
                         .add(client_frame(ws_opcode::kBinary, "a", false))
                         .add(client_frame(ws_opcode::kBinary, "b"))
                         .bytes),
            close_code::kProtocolError);
}

TEST(WsFrameReader, LengthsMustBeMinimalAndBelow2To63) {
  // 16 bits for a length that fits in 7.
  std::vector<uint8_t> frame{0x82, 0x80 | 126, 0, 5, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'};
  EXPECT_EQ(error_of(frame), close_code::kProtocolError);
  // 64 bits for a length that fits in 16.
  frame = {0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4};
  EXPECT_EQ(error_of(frame), close_code::kProtocolError);
  // The top bit of a 64-bit length.
  frame = {0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4};
  EXPECT_EQ(error_of(frame), close_code::kProtocolError);
}

TEST(WsFrameReader, OversizedMessagesFailFromTheHeaderAlone) {
  const uint32_t max = 1000;
  EXPECT_EQ(error_of(client_frame(ws_opcode::kBinary, std::string(1000, 'x')), max), 0);
  // Only the header of a 1001-byte frame: refused before any payload is buffered.
  auto header_only = client_frame(ws_opcode::kBinary, std::string(1001, 'x'));
  header_only.resize(8);
  EXPECT_EQ(error_of(header_only, max), close_code::kTooBig);
  // A huge declared length.
  std::vector<uint8_t> huge{0x82, 0x80 | 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF,
                            0xFF, 0xFF,       0xFF, 1,    2,    3,    4};
  EXPECT_EQ(error_of(huge, max), close_code::kTooBig);
  // Fragments that only together pass the maximum.
  EXPECT_EQ(error_of(Frames()
                         .add(client_frame(ws_opcode::kBinary, std::string(600, 'a'), false))
                         .add(client_frame(ws_opcode::kContinuation, std::string(401, 'b')))
                         .bytes,
                     max),
            close_code::kTooBig);
}

TEST(WsFrameReader, TextMustBeUtf8) {
  for (std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\xE2\x82", "\xFF"}) {
    EXPECT_EQ(error_of(client_frame(ws_opcode::kText, bad)), close_code::kInvalidData);
  }
  // Checked on the whole message: a character may span fragments.
  auto r = read_all(Frames()
                        .add(client_frame(ws_opcode::kText, "\xE2\x82", false))
                        .add(client_frame(ws_opcode::kContinuation, "\xAC"))
                        .bytes);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.events, Events{"text:\xE2\x82\xAC"});
  EXPECT_EQ(error_of(client_frame(ws_opcode::kBinary, "\xFF")), 0);  // binary is anything
}

TEST(WsFrameReader, AfterAnErrorInputIsIgnored) {
  WsFrameReader reader(1000);
  Recorder recorder;
  auto bad = client_frame(0x3, "x");
  EXPECT_EQ(reader.feed(bad.data(), bad.size(), recorder), close_code::kProtocolError);
  EXPECT_TRUE(reader.failed());
  auto good = client_frame(ws_opcode::kBinary, "x");
  EXPECT_EQ(reader.feed(good.data(), good.size(), recorder), 0);
  EXPECT_TRUE(recorder.events.empty());
}

TEST(WsFrameReader, HoldsNothingBetweenMessages) {
  WsFrameReader reader(1 << 20);
  Recorder recorder;
  auto stream = Frames()
                    .add(client_frame(ws_opcode::kBinary, "abc", false))
                    .add(client_frame(ws_opcode::kContinuation, "def"))
                    .bytes;
  EXPECT_TRUE(reader.idle());
  reader.feed(stream.data(), 5, recorder);  // part of the first fragment
  EXPECT_FALSE(reader.idle());
  reader.feed(stream.data() + 5, stream.size() - 5, recorder);
  EXPECT_TRUE(reader.idle());
  EXPECT_EQ(recorder.events, Events{"binary:abcdef"});
}

}  // namespace
}  // namespace p2pcdn::server
