// --access-log on the real binary: one logfmt line per HTTP request and per WebSocket
// accepted, on stderr; none without the flag.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "child_process.hpp"
#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;

constexpr size_t kPageBytes = 5000;

class AccessLog : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("p2pcdn-access-" + std::to_string(::getpid()));
    fs::create_directories(root_);
    std::ofstream(root_ / "page.html") << std::string(kPageBytes, 'x');
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<ChildProcess> start(std::vector<std::string> flags) {
    flags.insert(flags.begin(), {P2PCDN_SERVER_BINARY, "--bind", "127.0.0.1", "--port", "0",
                                 "--root", root_.string()});
    return std::make_unique<ChildProcess>(std::move(flags));
  }

  // The access line whose text includes `fields`, once the server has written it.
  static std::string line_with(ChildProcess& server, const std::string& fields) {
    if (!server.wait_for(fields, kWaitMs)) return {};
    const std::string& log = server.err();
    const size_t at = log.find(fields);
    const size_t begin = log.rfind('\n', at) + 1;  // npos + 1 == 0: the first line
    return log.substr(begin, log.find('\n', at) - begin);
  }

  static uint64_t field(const std::string& line, const std::string& name) {
    const size_t at = line.find(" " + name + "=");
    return at == std::string::npos ? 0 : std::stoull(line.substr(at + name.size() + 2));
  }

  fs::path root_;
};

TEST_F(AccessLog, OneLinePerRequestWithMethodPathStatusBytesAndDuration) {
  auto server = start({"--access-log"});
  const uint16_t port = server->listening_port(kWaitMs);
  ASSERT_NE(port, 0) << server->err();

  EXPECT_EQ(http_get(port, "/page.html?v=2&secret=1").status, 200u);
  const std::string page = line_with(*server, "method=GET path=/page.html status=200");
  ASSERT_FALSE(page.empty()) << server->err();
  EXPECT_NE(page.find("event=access"), std::string::npos) << page;
  EXPECT_EQ(page.find("secret"), std::string::npos) << "the query is left out: " << page;
  EXPECT_GT(field(page, "bytes"), kPageBytes) << "head and body: " << page;
  EXPECT_LT(field(page, "bytes"), kPageBytes + 1000) << page;
  EXPECT_NE(page.find(" ms="), std::string::npos) << page;
  EXPECT_NE(page.find(" ip=127.0.0.1"), std::string::npos) << page;

  EXPECT_EQ(http_get(port, "/missing.js").status, 404u);
  EXPECT_FALSE(line_with(*server, "method=GET path=/missing.js status=404").empty());
  EXPECT_EQ(http_get(port, "/page.html", {}, "HEAD").status, 200u);
  EXPECT_FALSE(line_with(*server, "method=HEAD path=/page.html status=200").empty());
}

TEST_F(AccessLog, WebSocketUpgradeLogsOneLineWhenAccepted) {
  auto server = start({"--access-log"});
  const uint16_t port = server->listening_port(kWaitMs);
  ASSERT_NE(port, 0) << server->err();
  WsClient client;
  ASSERT_TRUE(client.connect(port));
  const std::string line = line_with(*server, "method=GET path=/signal status=101");
  ASSERT_FALSE(line.empty()) << server->err();
  EXPECT_NE(line.find("event=access"), std::string::npos) << line;
  EXPECT_NE(line.find(" ms="), std::string::npos) << line;
  client.close();
}

TEST_F(AccessLog, OffByDefault) {
  auto server = start({});
  const uint16_t port = server->listening_port(kWaitMs);
  ASSERT_NE(port, 0) << server->err();
  EXPECT_EQ(http_get(port, "/page.html").status, 200u);
  WsClient client;
  ASSERT_TRUE(client.connect(port));
  client.close();
  server->signal(SIGTERM);
  EXPECT_EQ(server->wait_exit(5000), 0);
  EXPECT_EQ(server->err().find("event=access"), std::string::npos) << server->err();
}

}  // namespace
}  // namespace p2pcdn::testing
