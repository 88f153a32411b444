// scripts/demo.sh, serving a demo site an earlier run built (DEMO_SKIP_BUILD=1): it gives the
// URL only once the server listens, with the port the server bound.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>

#include "child_process.hpp"
#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = P2PCDN_SOURCE_DIR;

class DemoScript : public ::testing::Test {
 protected:
  void SetUp() override {
    // The script serves build/site/demo with build/native's server; building them is the
    // script's slow part, which these tests skip.
    if (!fs::is_regular_file(kSource / "build/native/server/p2pcdn-server") ||
        !fs::is_directory(kSource / "build/site/demo")) {
      GTEST_SKIP() << "needs scripts/demo.sh to have run once (build/native, build/site/demo)";
    }
  }

  static std::unique_ptr<ChildProcess> demo(uint16_t port) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{"/bin/bash", (kSource / "scripts/demo.sh").string()},
        std::vector<std::string>{"DEMO_SKIP_BUILD=1", "HOST=127.0.0.1",
                                 "PORT=" + std::to_string(port)});
  }
};

TEST_F(DemoScript, BusyPortGivesTheServerErrorAndNoUrl) {
  RunningServer busy(test_config());
  ASSERT_NE(busy.port(), 0);
  auto script = demo(busy.port());
  EXPECT_EQ(script->wait_exit(10000), 1) << script->err();
  EXPECT_NE(script->err().find("cannot listen"), std::string::npos) << script->err();
  EXPECT_EQ(script->out().find("http://"), std::string::npos) << script->out();
}

TEST_F(DemoScript, UrlNamesThePortTheServerListensOn) {
  auto script = demo(0);  // any free port: the URL must say which
  ASSERT_TRUE(script->wait_for("/ in two browser windows", 10000))
      << script->out() << script->err();
  const std::string& out = script->out();
  const std::string prefix = "open http://localhost:";
  const size_t at = out.find(prefix);
  ASSERT_NE(at, std::string::npos) << out;
  const int port = std::stoi(out.substr(at + prefix.size()));
  ASSERT_GT(port, 0);
  EXPECT_EQ(http_get(static_cast<uint16_t>(port), "/healthz").status, 200u);
  script->signal(SIGINT);  // Ctrl-C
  EXPECT_EQ(script->wait_exit(10000), 0) << script->err();
  EXPECT_NE(script->err().find("event=shutdown_done"), std::string::npos) << script->err();
}

}  // namespace
}  // namespace p2pcdn::testing
