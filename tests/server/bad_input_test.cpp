// Malformed and out-of-place messages get an ERROR; the connection and server keep working.
#include <gtest/gtest.h>

#include "raw_ws_client.hpp"
#include "test_client.hpp"
#include "ws_frames_for_tests.hpp"

namespace p2pcdn::testing {
namespace {

using server::testing_frames::client_frame;

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

TEST(BadInput, APeerThatKeepsSendingMalformedMessagesIsClosed) {
  auto config = test_config();
  config.messages_per_second = 1000;  // burst 2000; 4 x 1000 refusals in 10 s close a peer
  RunningServer server(config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  c.join(kSite);
  // ~2000 malformed (the burst), the rest over the rate: only with the malformed ones
  // counted are there enough refusals to close.
  for (int i = 0; i < 4100; ++i) c.send_raw({1, 2, 3});
  EXPECT_EQ(c.wait_close(), 1008);
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
  ASSERT_TRUE(c.connect(server.port(), "https://intruder.example"));
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

// A JOIN over a raw socket upgraded with this Origin header (none if empty): what the
// server answers, WELCOME or ERROR, and then the close code if it closes (0 if not).
struct JoinOutcome {
  std::optional<SignalMessage> answer;
  uint16_t close_code = 0;
};
JoinOutcome raw_join(uint16_t port, const std::string& origin, const std::string& site) {
  RawWsClient c;
  JoinOutcome outcome;
  if (!c.connect(port, {}, origin)) return outcome;
  c.send(client_frame(0x2, encode_signal(Join{site, "", 0}).value()));
  auto frame = c.read_frame();
  if (!frame || frame->opcode != 0x2) return outcome;
  auto decoded = decode_signal(ByteView(frame->payload));
  if (!decoded) return outcome;
  outcome.answer = decoded.value();
  if (std::holds_alternative<SignalError>(*outcome.answer))
    outcome.close_code = c.read_close_code();
  return outcome;
}

TEST(BadInput, AJoinWithoutOriginIsRefused) {
  RunningServer server(test_config());
  // No Origin header: not a browser, and it could claim any site.
  const JoinOutcome refused = raw_join(server.port(), "", kSite);
  ASSERT_TRUE(refused.answer);
  auto* error = std::get_if<SignalError>(&*refused.answer);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kForbiddenSite));
  EXPECT_NE(error->message.find("Origin"), std::string::npos) << error->message;
  EXPECT_EQ(refused.close_code, 4003);
  // The same JOIN from a page of that site is welcomed.
  const JoinOutcome browser = raw_join(server.port(), kSite, kSite);
  ASSERT_TRUE(browser.answer);
  EXPECT_TRUE(std::holds_alternative<Welcome>(*browser.answer));
  auto metrics = http_get(server.port(), "/metrics");
  EXPECT_NE(metrics.body().find("p2pcdn_rejections_total{reason=\"forbidden_site\"} 1\n"),
            std::string::npos)
      << metrics.body();
}

TEST(BadInput, AllowNoOriginLetsNonBrowsersJoinAllowedSites) {
  auto config = test_config();
  config.allow_no_origin = true;
  config.allowed_origins = {kSite};
  RunningServer server(config);
  const JoinOutcome joined = raw_join(server.port(), "", kSite);
  ASSERT_TRUE(joined.answer);
  EXPECT_TRUE(std::holds_alternative<Welcome>(*joined.answer));
  // Only the sites --allow-origin lists, as for browsers.
  const JoinOutcome other = raw_join(server.port(), "", "https://other.example");
  ASSERT_TRUE(other.answer);
  auto* error = std::get_if<SignalError>(&*other.answer);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kForbiddenSite));
  EXPECT_EQ(other.close_code, 4003);
  // A page still joins only its own site.
  const JoinOutcome mismatch = raw_join(server.port(), "https://other.example", kSite);
  ASSERT_TRUE(mismatch.answer);
  EXPECT_TRUE(std::holds_alternative<SignalError>(*mismatch.answer));
}

TEST(BadInput, OnlySignalUpgrades) {
  RunningServer server(test_config());
  WsClient c;
  EXPECT_FALSE(c.connect(server.port(), "", "/elsewhere"));
}

}  // namespace
}  // namespace p2pcdn::testing
