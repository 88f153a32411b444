// The server's own WebSocket frame layer, over the network, with hand-made frames: what a
// browser never sends must close the connection with the right code and never hurt the
// server; what RFC 6455 allows (fragments, pings, any read boundary) must work.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "p2pcdn/signal.hpp"
#include "raw_ws_client.hpp"
#include "test_client.hpp"
#include "ws_frames_for_tests.hpp"

namespace p2pcdn::testing {
namespace {

using server::testing_frames::client_frame;
using server::testing_frames::Frames;

constexpr const char* kSite = "https://site.example";
constexpr uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9,
                  kPong = 0xA;

std::vector<uint8_t> signal_bytes(const SignalMessage& message) {
  return encode_signal(message).value();
}

std::optional<SignalMessage> read_signal(RawWsClient& c) {
  auto frame = c.read_frame();
  if (!frame || frame->opcode != kBinary) return std::nullopt;
  auto decoded = decode_signal(ByteView(frame->payload));
  if (!decoded) return std::nullopt;
  return decoded.value();
}

bool welcomed(RawWsClient& c) {
  auto m = read_signal(c);
  return m && std::holds_alternative<Welcome>(*m);
}

std::string metrics(uint16_t port) {
  return http_get(port, "/metrics").body();
}

// Polls /metrics until `line` shows: counters change once the server has seen a close.
bool metric_becomes(uint16_t port, const std::string& line) {
  for (int i = 0; i < 200; ++i) {
    if (metrics(port).find(line + "\n") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// The server still serves others after whatever a test client did.
void expect_server_healthy(uint16_t port) {
  WsClient c;
  ASSERT_TRUE(c.connect(port));
  EXPECT_NE(c.join(kSite), PeerId{});
}

TEST(WebSocketFrames, ForbiddenFramesCloseWith1002) {
  RunningServer server(test_config());
  auto unmasked = client_frame(kBinary, "hi");
  unmasked = {unmasked[0], 0x02, 'h', 'i'};
  auto reserved_bit = client_frame(kBinary, "hi");
  reserved_bit[0] |= 0x40;
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> cases = {
      {"unmasked", unmasked},
      {"reserved bit", reserved_bit},
      {"unknown data opcode", client_frame(0x3, "x")},
      {"unknown control opcode", client_frame(0xB, "x")},
      {"long ping", client_frame(kPing, std::string(126, 'p'))},
      {"fragmented ping", client_frame(kPing, "p", false)},
      {"continuation first", client_frame(kContinuation, "x")},
      {"message inside a message",
       Frames().add(client_frame(kBinary, "a", false)).add(client_frame(kText, "b")).bytes},
      {"16-bit length for 5 bytes", {0x82, 0x80 | 126, 0, 5, 1, 2, 3, 4, 1, 2, 3, 4, 5}},
      {"close with half a code", client_frame(kClose, "\x03")},
      {"close with a reserved code", client_frame(kClose, std::string("\x03\xED", 2))},
  };
  for (const auto& [name, bytes] : cases) {
    RawWsClient c;
    ASSERT_TRUE(c.connect(server.port())) << name;
    c.send(bytes);
    EXPECT_EQ(c.read_close_code(), 1002) << name;
    EXPECT_TRUE(c.wait_end_of_stream()) << name;  // the server closes its side after the frame
  }
  EXPECT_TRUE(metric_becomes(server.port(), "p2pcdn_websockets_open 0"));
  expect_server_healthy(server.port());
}

TEST(WebSocketFrames, TextThatIsNotUtf8ClosesWith1007) {
  RunningServer server(test_config());
  RawWsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  c.send(client_frame(kText, "\xC0\xAF"));
  EXPECT_EQ(c.read_close_code(), 1007);
}

TEST(WebSocketFrames, OversizedMessageClosesWith1009AndIsCounted) {
  auto config = test_config();
  config.max_message_size = 2048;
  RunningServer server(config);
  RawWsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  // Fragments that only together pass the limit: refused at the second one's header.
  c.send(client_frame(kBinary, std::string(2000, 'a'), false));
  c.send(client_frame(kContinuation, std::string(100, 'b')));
  EXPECT_EQ(c.read_close_code(), 1009);
  EXPECT_TRUE(
      metric_becomes(server.port(), "p2pcdn_rejections_total{reason=\"message_too_big\"} 1"));
  expect_server_healthy(server.port());
}

TEST(WebSocketFrames, FragmentedMessageAroundAPingIsReassembled) {
  RunningServer server(test_config());
  RawWsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  const auto join = signal_bytes(Join{kSite, "", 0});
  const std::vector<uint8_t> first(join.begin(), join.begin() + 3);
  const std::vector<uint8_t> rest(join.begin() + 3, join.end());
  c.send(Frames()
             .add(client_frame(kBinary, first, false))
             .add(client_frame(kPing, "are you there"))
             .add(client_frame(kContinuation, rest))
             .bytes);
  auto pong = c.read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, kPong);
  EXPECT_EQ(std::string(pong->payload.begin(), pong->payload.end()), "are you there");
  EXPECT_TRUE(welcomed(c));
  // A pong from the client is ignored, and the connection goes on.
  c.send(client_frame(kPong, "unasked"));
  c.send(client_frame(kBinary, signal_bytes(Heartbeat{7})));
  auto ack = read_signal(c);
  ASSERT_TRUE(ack && std::holds_alternative<HeartbeatAck>(*ack));
}

TEST(WebSocketFrames, AMessageSentByteByByteArrives) {
  RunningServer server(test_config());
  RawWsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  for (uint8_t byte : client_frame(kBinary, signal_bytes(Join{kSite, "", 0}))) {
    c.send({byte});
    std::this_thread::sleep_for(std::chrono::microseconds(300));  // one read each, mostly
  }
  EXPECT_TRUE(welcomed(c));
}

TEST(WebSocketFrames, FramesSentWithTheUpgradeRequestAreRead) {
  RunningServer server(test_config());
  RawWsClient c;
  ASSERT_TRUE(c.connect(server.port(), client_frame(kBinary, signal_bytes(Join{kSite, "", 0}))));
  EXPECT_TRUE(welcomed(c));
}

TEST(WebSocketFrames, ClientCloseIsEchoedAndThePeerForgotten) {
  RunningServer server(test_config());
  RawWsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  c.send(client_frame(kBinary, signal_bytes(Join{kSite, "", 0})));
  ASSERT_TRUE(welcomed(c));
  c.send(client_frame(kClose, std::string("\x0F\xA0going", 7)));  // 4000
  EXPECT_EQ(c.read_close_code(), 4000);
  EXPECT_TRUE(c.wait_end_of_stream());  // the server closes TCP first
  EXPECT_TRUE(metric_becomes(server.port(), "p2pcdn_websockets_open 0"));
  EXPECT_TRUE(metric_becomes(server.port(), "p2pcdn_peers 0"));
  // An empty close frame gets an empty one back.
  RawWsClient d;
  ASSERT_TRUE(d.connect(server.port()));
  d.send(client_frame(kClose, ""));
  EXPECT_EQ(d.read_close_code(), 1005);
}

TEST(WebSocketFrames, AClientThatNeverAnswersTheCloseIsDropped) {
  auto config = test_config();
  config.heartbeat_interval_ms = 100;
  config.peer_timeout_ms = 200;
  RunningServer server(config);
  RawWsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  c.send(client_frame(kBinary, signal_bytes(Join{kSite, "", 0})));
  ASSERT_TRUE(welcomed(c));
  // Silent: closed with 4000 after the timeout; the close is never answered, and the server
  // gives up on the handshake within another two timeouts.
  EXPECT_EQ(c.read_close_code(), 4000);
  EXPECT_TRUE(c.wait_end_of_stream(2000));
  EXPECT_TRUE(metric_becomes(server.port(), "p2pcdn_websockets_open 0"));
}

TEST(WebSocketFrames, RelaysToAPausedReaderArriveWholeAndInOrder) {
  auto config = test_config();
  config.max_send_queue_bytes = 8 << 20;
  config.messages_per_second = 100000;
  RunningServer server(config);
  WsClient sender, receiver;
  ASSERT_TRUE(sender.connect(server.port()));
  ASSERT_TRUE(receiver.connect(server.port()));
  sender.join(kSite);
  const PeerId target = receiver.join(kSite);
  // While the receiver reads nothing, its socket buffers fill: frames then go out partly at
  // once and partly from the queue, and must still arrive byte for byte.
  auto payload = [](int i) { return std::string(50000 + i * 37, static_cast<char>('a' + i % 26)); };
  for (int i = 0; i < 60; ++i) sender.send(Relay{target, RelayKind::kCandidate, payload(i)});
  ASSERT_TRUE(sender.sync());
  for (int i = 0; i < 60; ++i) {
    auto relay = receiver.read_as<Relay>();
    ASSERT_TRUE(relay) << i;
    EXPECT_EQ(relay->payload, payload(i)) << i;
  }
}

TEST(WebSocketFrames, RandomBytesNeverHurtTheServer) {
  RunningServer server(test_config());
  std::mt19937 random(42);
  for (int round = 0; round < 50; ++round) {
    RawWsClient c;
    ASSERT_TRUE(c.connect(server.port()));
    // Sometimes a valid frame first, so the garbage lands mid-stream.
    if (round % 2 == 0) c.send(client_frame(kBinary, signal_bytes(Heartbeat{1})));
    std::vector<uint8_t> junk(1 + random() % 300);
    for (auto& b : junk) b = static_cast<uint8_t>(random());
    c.send(junk);
    c.close();
  }
  expect_server_healthy(server.port());
  EXPECT_TRUE(metric_becomes(server.port(), "p2pcdn_websockets_open 0"));
}

}  // namespace
}  // namespace p2pcdn::testing
