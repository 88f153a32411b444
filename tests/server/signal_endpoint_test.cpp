// /signal opened as a plain HTTP request: 426 with the upgrade it needs, and the WebSocket
// itself unaffected.
#include <gtest/gtest.h>

#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

TEST(SignalEndpoint, PlainGetIsAnsweredUpgradeRequired) {
  RunningServer server(test_config());
  for (const std::string target : {"/signal", "/signal?site=x"}) {
    const HttpReply reply = http_get(server.port(), target);
    EXPECT_EQ(reply.status, 426u) << target;
    EXPECT_EQ(reply["upgrade"], "websocket") << target;
    EXPECT_NE(reply.text.find("WebSocket"), std::string::npos) << reply.text;
  }
  const HttpReply head = http_get(server.port(), "/signal", {}, "HEAD");
  EXPECT_EQ(head.status, 426u);
  EXPECT_EQ(head["upgrade"], "websocket");
}

TEST(SignalEndpoint, WebSocketUpgradeStillConnects) {
  RunningServer server(test_config());
  EXPECT_EQ(http_get(server.port(), "/signal").status, 426u);
  WsClient client;
  ASSERT_TRUE(client.connect(server.port()));
  EXPECT_NE(client.join("https://site.example"), PeerId{});
}

}  // namespace
}  // namespace p2pcdn::testing
