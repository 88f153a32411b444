// Every configurable limit is enforced with a clear answer and counted in /metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "raw_ws_client.hpp"
#include "test_client.hpp"
#include "ws_frames_for_tests.hpp"

namespace p2pcdn::testing {
namespace {

using server::testing_frames::client_frame;

constexpr const char* kSite = "https://site.example";
constexpr uint8_t kBinary = 0x2, kClose = 0x8;

std::vector<uint8_t> frame_of(const SignalMessage& message) {
  return client_frame(kBinary, encode_signal(message).value());
}

// The next signaling message on a raw connection, skipping nothing; nullopt at a close frame,
// the end of the stream or a timeout.
std::optional<SignalMessage> read_signal(RawWsClient& c, int ms = kWaitMs) {
  auto frame = c.read_frame(ms);
  if (!frame || frame->opcode != kBinary) return std::nullopt;
  auto decoded = decode_signal(ByteView(frame->payload));
  if (!decoded) return std::nullopt;
  return decoded.value();
}

PeerId raw_join(RawWsClient& c) {
  c.send(frame_of(Join{kSite, "", 0}));
  auto welcome = read_signal(c);
  return welcome && std::holds_alternative<Welcome>(*welcome) ? std::get<Welcome>(*welcome).peer_id
                                                              : PeerId{};
}

bool metric_is(uint16_t port, const std::string& line) {
  return http_get(port, "/metrics").body().find(line + "\n") != std::string::npos;
}

// The value of one metric (name and labels), or -1 if /metrics has no such line.
long long metric_value(uint16_t port, const std::string& name) {
  const std::string body = http_get(port, "/metrics").body();
  const size_t at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(body.substr(at + name.size() + 2));
}

constexpr const char* kTargetBusy = "p2pcdn_rejections_total{reason=\"target_busy\"}";

TEST(Limits, MaxConnections) {
  auto config = test_config();
  config.max_connections = 2;
  RunningServer server(config);
  WsClient a, b, c;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  EXPECT_FALSE(c.connect(server.port()));
  EXPECT_EQ(c.http_status(), 503u);
  a.close();
  EXPECT_EQ(a.wait_close(), 1000);
  // The place is given back once a connection ends.
  WsClient d;
  bool connected = false;
  for (int i = 0; i < 50 && !connected; ++i) {
    connected = d.connect(server.port());
    if (!connected) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(connected);
  b.close();
  d.close();
}

TEST(Limits, MaxConnectionsPerIp) {
  auto config = test_config();
  config.max_connections_per_ip = 1;
  RunningServer server(config);
  WsClient a, b;
  ASSERT_TRUE(a.connect(server.port()));
  EXPECT_FALSE(b.connect(server.port()));
  EXPECT_EQ(b.http_status(), 429u);
  a.close();
  a.wait_close();
  EXPECT_TRUE(metric_is(server.port(), "p2pcdn_rejections_total{reason=\"too_many_from_ip\"} 1"));
}

TEST(Limits, MessagesPerSecond) {
  auto config = test_config();
  config.messages_per_second = 5;  // burst 10
  RunningServer server(config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  for (int i = 0; i < 15; ++i) c.send(Heartbeat{static_cast<uint64_t>(i)});
  int acks = 0, errors = 0;
  for (int i = 0; i < 11; ++i) {
    auto m = c.read(500);
    if (!m) break;
    if (std::holds_alternative<HeartbeatAck>(*m)) ++acks;
    if (auto* e = std::get_if<SignalError>(&*m)) {
      EXPECT_EQ(e->code, static_cast<uint16_t>(SignalErrorCode::kRateLimited));
      ++errors;
    }
  }
  EXPECT_EQ(acks, 10);   // the burst
  EXPECT_EQ(errors, 1);  // one explanation, not one per dropped message
  // A peer that keeps flooding is closed.
  for (int i = 0; i < 100; ++i) c.send(Heartbeat{0});
  EXPECT_EQ(c.wait_close(), 1008);
}

TEST(Limits, MaxMessageSize) {
  auto config = test_config();
  config.max_message_size = 2048;
  RunningServer server(config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  c.join(kSite);
  c.send(Relay{PeerId{}, RelayKind::kOffer, std::string(4000, 'x')});
  EXPECT_EQ(c.wait_close(), 1009);
  // Counted once the server has seen the connection fail.
  bool counted = false;
  for (int i = 0; i < 100 && !counted; ++i) {
    counted = metric_is(server.port(), "p2pcdn_rejections_total{reason=\"message_too_big\"} 1");
    if (!counted) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(counted);
}

TEST(Limits, MaxAnnouncedPerPeer) {
  auto config = test_config();
  config.max_announced_per_peer = 3;
  RunningServer server(config);
  WsClient a, b;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  a.join(kSite);
  b.join(kSite);
  a.send(Announce{{resource(1), resource(2), resource(3), resource(4), resource(5)}});
  auto error = a.read_as<SignalError>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kTooManyAnnouncements));
  EXPECT_NE(error->message.find("refused 2"), std::string::npos) << error->message;
  for (uint8_t r = 1; r <= 5; ++r) {
    b.send(Lookup{r, resource(r), 5});
    auto peers = b.read_as<Peers>();
    ASSERT_TRUE(peers);
    EXPECT_EQ(peers->peers.size(), r <= 3 ? 1u : 0u) << int(r);
  }
  EXPECT_TRUE(metric_is(server.port(), "p2pcdn_announcements 3"));
}

TEST(Limits, LookupReturnsAtMostTheConfiguredPeers) {
  auto config = test_config();
  config.max_lookup_peers = 2;
  RunningServer server(config);
  std::vector<std::unique_ptr<WsClient>> holders;
  for (int i = 0; i < 4; ++i) {
    holders.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(holders.back()->connect(server.port()));
    holders.back()->join(kSite);
    holders.back()->send(Announce{{resource(9)}});
    holders.back()->sync();
  }
  WsClient asker;
  ASSERT_TRUE(asker.connect(server.port()));
  asker.join(kSite);
  asker.send(Lookup{1, resource(9), 50});
  auto peers = asker.read_as<Peers>();
  ASSERT_TRUE(peers);
  EXPECT_EQ(peers->peers.size(), 2u);
}

// The next message answers a heartbeat sent now: nothing (such as an ERROR) came before it.
bool nothing_before_ack(WsClient& c) {
  c.send(Heartbeat{99});
  auto ack = c.read_as<HeartbeatAck>();
  return ack && ack->sent_at_ms == 99;
}

TEST(Limits, MaxPeersPerIpPerSwarm) {
  auto config = test_config();
  config.max_peers_per_ip_per_swarm = 3;
  RunningServer server(config);
  std::vector<std::unique_ptr<WsClient>> peers;
  for (int i = 0; i < 3; ++i) {
    peers.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(peers.back()->connect(server.port()));
    ASSERT_NE(peers.back()->join(kSite), PeerId{}) << i;
  }
  // A fourth identity from the same address in the same swarm is refused.
  WsClient fourth;
  ASSERT_TRUE(fourth.connect(server.port()));
  fourth.send(Join{kSite, "", 0});
  auto error = fourth.read_as<SignalError>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kServerFull));
  EXPECT_NE(error->message.find("limit 3"), std::string::npos) << error->message;
  EXPECT_EQ(fourth.wait_close(), 1013);
  EXPECT_TRUE(
      metric_is(server.port(), "p2pcdn_rejections_total{reason=\"too_many_peers_from_ip\"} 1"));
  // Another swarm (another key) counts apart.
  WsClient other_swarm;
  ASSERT_TRUE(other_swarm.connect(server.port()));
  EXPECT_NE(other_swarm.join(kSite, "course-2"), PeerId{});
  // A peer that leaves gives its place back.
  peers[0]->send(Leave{});
  EXPECT_EQ(peers[0]->wait_close(), 1000);
  WsClient again;
  ASSERT_TRUE(again.connect(server.port()));
  EXPECT_NE(again.join(kSite), PeerId{});
}

TEST(Limits, MaxAnnouncedPerIp) {
  auto config = test_config();
  config.max_announced_per_peer = 4;
  config.max_announced_per_ip = 5;
  RunningServer server(config);
  WsClient a, b, asker;
  for (WsClient* c : {&a, &b, &asker}) {
    ASSERT_TRUE(c->connect(server.port()));
    c->join(kSite);
  }
  a.send(Announce{{resource(1), resource(2), resource(3), resource(4)}});
  EXPECT_TRUE(nothing_before_ack(a));
  // b, from the same address, may add only what is left of the address's 5.
  b.send(Announce{{resource(5), resource(6), resource(7)}});
  auto error = b.read_as<SignalError>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kTooManyAnnouncements));
  EXPECT_NE(error->message.find("refused 2 ids: limit 5 per address"), std::string::npos)
      << error->message;
  EXPECT_TRUE(
      metric_is(server.port(), "p2pcdn_rejections_total{reason=\"too_many_announced_from_ip\"} 1"));
  EXPECT_TRUE(metric_is(server.port(), "p2pcdn_announcements 5"));
  for (uint8_t r = 5; r <= 7; ++r) {
    asker.send(Lookup{r, resource(r), 5});
    auto peers = asker.read_as<Peers>();
    ASSERT_TRUE(peers);
    EXPECT_EQ(peers->peers.size(), r == 5 ? 1u : 0u) << int(r);
  }
  // What a withdraws, and all a held once it leaves, is room for b again.
  a.send(Withdraw{{resource(1), resource(2)}});
  EXPECT_TRUE(nothing_before_ack(a));
  b.send(Announce{{resource(6), resource(7)}});
  EXPECT_TRUE(nothing_before_ack(b));
  a.send(Leave{});
  EXPECT_EQ(a.wait_close(), 1000);
  b.send(Announce{{resource(8)}});
  EXPECT_TRUE(nothing_before_ack(b));
  // b now meets its own limit of 4, told as such.
  b.send(Announce{{resource(9)}});
  error = b.read_as<SignalError>();
  ASSERT_TRUE(error);
  EXPECT_NE(error->message.find("limit 4 per peer"), std::string::npos) << error->message;
  EXPECT_TRUE(metric_is(server.port(), "p2pcdn_announcements 4"));
}

// Relays ~60 KB candidates from `sender` to `target`, which reads nothing, until the server
// refuses one as the target is busy: its socket buffers are full, and its send queue half so.
bool relay_until_target_busy(uint16_t port, WsClient& sender, const PeerId& target) {
  const std::string payload(60000, 's');
  for (int i = 0; i < 700; ++i) {
    sender.send(Relay{target, RelayKind::kCandidate, payload});
    if (i % 50 == 49 && metric_value(port, kTargetBusy) > 0) return true;
  }
  return false;
}

server::ServerConfig queue_test_config() {
  auto config = test_config();
  config.max_send_queue_bytes = 256 * 1024;
  config.messages_per_second = 100000;
  config.max_relay_in_per_second = 100000;  // only the queue stops relays here
  return config;
}

TEST(Limits, RelaysFillAtMostHalfOfATargetsQueue) {
  RunningServer server(queue_test_config());
  WsClient sender, sleeper;
  ASSERT_TRUE(sender.connect(server.port()));
  ASSERT_TRUE(sleeper.connect(server.port()));
  sender.join(kSite);
  const PeerId target = sleeper.join(kSite);
  // Before relays were capped at half the queue, ~40 MB relayed to a peer that reads nothing
  // filled its socket buffers, then its queue, and the server closed it.
  ASSERT_TRUE(relay_until_target_busy(server.port(), sender, target));
  EXPECT_TRUE(metric_is(server.port(), "p2pcdn_rejections_total{reason=\"slow_reader\"} 0"));
  // The sender is told why, once.
  auto error = sender.read_as<SignalError>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kRateLimited));
  EXPECT_EQ(error->about_type, static_cast<uint8_t>(SignalType::kRelay));
  EXPECT_NE(error->message.find("target busy"), std::string::npos) << error->message;
  // The sleeper wakes up: it gets what was relayed, then its heartbeat's answer.
  sleeper.send(Heartbeat{5});
  bool acked = false;
  for (int i = 0; i < 1000 && !acked; ++i) {
    auto m = sleeper.read();
    if (!m) break;
    acked = std::holds_alternative<HeartbeatAck>(*m);
  }
  EXPECT_TRUE(acked);
  EXPECT_FALSE(sleeper.closed());
}

TEST(Limits, APeerThatDoesNotReadIsClosed) {
  RunningServer server(queue_test_config());
  WsClient sender, sleeper;
  ASSERT_TRUE(sender.connect(server.port()));
  ASSERT_TRUE(sleeper.connect(server.port()));
  sender.join(kSite);
  const PeerId target = sleeper.join(kSite);
  ASSERT_TRUE(relay_until_target_busy(server.port(), sender, target));
  // Relays filled half its queue; the answers to its own heartbeats, which it does not read
  // either, fill the rest, and the server gives up on it.
  const auto heartbeat = encode_signal(Heartbeat{1}).value();
  bool counted = false;
  for (int i = 0; i < 20000 && !counted; ++i) {
    sleeper.send_raw(heartbeat);
    if (i % 1000 == 999)
      counted = metric_is(server.port(), "p2pcdn_rejections_total{reason=\"slow_reader\"} 1");
  }
  EXPECT_TRUE(counted);
}

// Sixty sockets each relay to one peer just under the per-peer message rate while that peer
// reads nothing. Together they could send it 2,800 messages a second; one target takes
// --max-relay-in-per-second, the rest are refused to their senders, who are closed as they
// keep on. The target is never closed for what others sent it.
TEST(Limits, ARelayFloodThrottlesTheSendersNotTheTarget) {
  auto config = test_config();
  // Every client here comes from 127.0.0.1, standing for sixty machines.
  config.max_connections_per_ip = 200;
  config.max_peers_per_ip_per_swarm = 200;
  RunningServer server(config);
  RawWsClient victim;
  ASSERT_TRUE(victim.connect(server.port()));
  const PeerId victim_id = raw_join(victim);
  ASSERT_NE(victim_id, PeerId{});
  constexpr int kSenders = 60;
  std::vector<std::unique_ptr<RawWsClient>> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.push_back(std::make_unique<RawWsClient>());
    ASSERT_TRUE(senders.back()->connect(server.port())) << i;
    ASSERT_NE(raw_join(*senders.back()), PeerId{}) << i;
  }
  // 4 KB candidates, one per sender every 21 ms (48/s, the limit being 50/s), for 7 s: about
  // 80 MB in all, which before the per-target limit filled the victim's socket buffers and
  // then its send queue within two seconds.
  const auto relay = frame_of(Relay{victim_id, RelayKind::kCandidate, std::string(4000, 'c')});
  // In a new order each round, as arrivals over a network would interleave.
  std::vector<RawWsClient*> order;
  for (auto& s : senders) order.push_back(s.get());
  std::mt19937 random(5);
  const auto start = std::chrono::steady_clock::now();
  for (int tick = 0; tick < 7000 / 21; ++tick) {
    std::shuffle(order.begin(), order.end(), random);
    for (RawWsClient* s : order) s->send(relay);
    std::this_thread::sleep_until(start + std::chrono::milliseconds(21 * (tick + 1)));
  }
  // Every sender was told, and closed for keeping on: each had ~45 relays/s refused, and
  // 4 x 50 drops in 10 s close a peer. The last two or three left fit in the victim's 100/s
  // once the others are gone, so they are no longer refused.
  int closed = 0;
  for (int i = 0; i < kSenders; ++i) {
    bool told = false;
    uint16_t close_code = 0;
    while (close_code == 0) {
      auto frame = senders[i]->read_frame(500);
      if (!frame) break;
      if (frame->opcode == kClose && frame->payload.size() >= 2) {
        close_code = static_cast<uint16_t>(frame->payload[0] << 8 | frame->payload[1]);
      } else if (auto decoded = decode_signal(ByteView(frame->payload))) {
        if (auto* e = std::get_if<SignalError>(&decoded.value())) {
          told = told || (e->code == static_cast<uint16_t>(SignalErrorCode::kRateLimited) &&
                          e->message.find("target busy") != std::string::npos);
        }
      }
    }
    EXPECT_TRUE(told) << "sender " << i;
    EXPECT_TRUE(close_code == 0 || close_code == 1008) << close_code;
    closed += close_code == 1008 ? 1 : 0;
  }
  EXPECT_GE(closed, kSenders - 3);
  // The victim, which has read nothing so far, is still connected: what was relayed to it
  // arrives, then the answer to its heartbeat.
  victim.send(frame_of(Heartbeat{77}));
  int relays = 0;
  bool acked = false;
  while (!acked) {
    auto m = read_signal(victim);
    if (!m) break;
    relays += std::holds_alternative<Relay>(*m) ? 1 : 0;
    acked = std::holds_alternative<HeartbeatAck>(*m);
  }
  EXPECT_TRUE(acked);
  EXPECT_GT(relays, 0);
  EXPECT_LT(relays, 2000);  // ~100/s over 7 s, plus a burst of 200
  EXPECT_TRUE(metric_is(server.port(), "p2pcdn_rejections_total{reason=\"slow_reader\"} 0"));
  EXPECT_GT(metric_value(server.port(), kTargetBusy), 0);
}

}  // namespace
}  // namespace p2pcdn::testing
