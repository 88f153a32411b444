// Every configurable limit is enforced with a clear answer and counted in /metrics.
#include <gtest/gtest.h>

#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

constexpr const char* kSite = "https://site.example";

bool metric_is(uint16_t port, const std::string& line) {
  return http_get(port, "/metrics").body().find(line + "\n") != std::string::npos;
}

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

TEST(Limits, APeerThatDoesNotReadIsClosed) {
  auto config = test_config();
  config.max_send_queue_bytes = 256 * 1024;
  config.messages_per_second = 100000;
  RunningServer server(config);
  WsClient sender, sleeper;
  ASSERT_TRUE(sender.connect(server.port()));
  ASSERT_TRUE(sleeper.connect(server.port()));
  sender.join(kSite);
  const PeerId target = sleeper.join(kSite);
  // The sleeper reads nothing while ~40 MB are relayed to it: socket buffers fill, then
  // the server's queue passes its cap and the server gives up on it.
  const std::string payload(60000, 's');
  bool counted = false;
  for (int i = 0; i < 700 && !counted; ++i) {
    sender.send(Relay{target, RelayKind::kCandidate, payload});
    if (i % 50 == 49)
      counted = metric_is(server.port(), "p2pcdn_rejections_total{reason=\"slow_reader\"} 1");
  }
  EXPECT_TRUE(counted);
}

}  // namespace
}  // namespace p2pcdn::testing
