// Malformed and out-of-place messages get an ERROR; the connection and server keep working.
#include <gtest/gtest.h>

#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

constexpr const char* kSite = "https://site.example";

uint16_t error_code_of(WsClient& c) {
  auto e = c.read_as<SignalError>();
  return e ? e->code : 0;
}

TEST(BadInput, MalformedMessagesGetAnErrorAndChangeNothing) {
  RunningServer server(test_config());
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  const std::vector<std::vector<uint8_t>> junk = {
      {},                                                // empty
      {1, 2, 3},                                         // truncated
      {9, 8, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0},  // wrong version
      {1, 99, 0, 0, 0, 0, 0, 0},                         // unknown type
      {1, 8, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0},  // declared length too long
  };
  for (const auto& bytes : junk) {
    c.send_raw(bytes);
    EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kMalformed));
  }
  c.send_raw({'h', 'i'}, /*text=*/true);
  EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kMalformed));
  // A server-to-client message sent by a client.
  c.send(Welcome{});
  EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kMalformed));
  // Still alive.
  EXPECT_NE(c.join(kSite), PeerId{});
  auto metrics = http_get(server.port(), "/metrics");
  EXPECT_NE(metrics.body().find("p2pcdn_rejections_total{reason=\"malformed\"} 7"),
            std::string::npos)
      << metrics.body();
}

TEST(BadInput, EverythingButHeartbeatNeedsJoinFirst) {
  RunningServer server(test_config());
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  c.send(Lookup{1, resource(1), 3});
  EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kNotJoined));
  c.send(Announce{{resource(1)}});
  EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kNotJoined));
  c.send(Heartbeat{1});
  EXPECT_TRUE(c.read_as<HeartbeatAck>());
  c.join(kSite);
  c.send(Join{kSite, "", 0});
  EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kAlreadyJoined));
}

TEST(BadInput, SitesOffTheAllowListAreRefused) {
  auto config = test_config();
  config.allowed_origins = {kSite};
  RunningServer server(config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  c.send(Join{"https://intruder.example", "", 0});
  EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kForbiddenSite));
  EXPECT_EQ(c.wait_close(), 4003);
  WsClient ok;
  ASSERT_TRUE(ok.connect(server.port()));
  EXPECT_NE(ok.join(kSite), PeerId{});
}

TEST(BadInput, APageCannotJoinAnotherSitesSwarm) {
  RunningServer server(test_config());
  WsClient c;
  ASSERT_TRUE(c.connect(server.port(), "https://evil.example"));
  c.send(Join{kSite, "", 0});
  EXPECT_EQ(error_code_of(c), static_cast<uint16_t>(SignalErrorCode::kForbiddenSite));
  EXPECT_EQ(c.wait_close(), 4003);
  WsClient own;
  ASSERT_TRUE(own.connect(server.port(), kSite));
  EXPECT_NE(own.join(kSite), PeerId{});
}

TEST(BadInput, OnlySignalUpgrades) {
  RunningServer server(test_config());
  WsClient c;
  EXPECT_FALSE(c.connect(server.port(), "", "/elsewhere"));
}

}  // namespace
}  // namespace p2pcdn::testing
