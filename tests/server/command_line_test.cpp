// The command lines of p2pcdn-server and p2pcdn-manifest, run as the real binaries: a value
// out of range, a root that is not a folder and an unknown flag stop the server with status 2
// and a message naming the flag; --version answers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "server_config.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;

// Long enough for a refusal, which takes milliseconds; a server that starts instead is a
// failure, found out after this.
constexpr int kRefusalMs = 3000;

// A server that starts anyway does so on loopback, on a free port unless told one.
Finished run_server(std::vector<std::string> flags) {
  if (std::find(flags.begin(), flags.end(), "--port") == flags.end())
    flags.insert(flags.begin(), {"--port", "0"});
  flags.insert(flags.begin(), {P2PCDN_SERVER_BINARY, "--bind", "127.0.0.1"});
  return run_to_exit(std::move(flags), kRefusalMs);
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::vector<std::string> kWholeNumberFlags = {
    "--port",
    "--max-connections",
    "--max-connections-per-ip",
    "--max-message-size",
    "--max-announced",
    "--max-announced-per-ip",
    "--max-peers-per-ip-per-swarm",
    "--max-lookup-peers",
    "--max-send-queue",
    "--heartbeat-interval-ms",
    "--peer-timeout-ms",
    "--shutdown-grace-ms",
    "--http-timeout-ms",
    "--cache-max-age",
};
const std::vector<std::string> kFractionFlags = {"--messages-per-second",
                                                 "--max-relay-in-per-second"};

TEST(CommandLine, PortOutsideZeroTo65535IsRefused) {
  for (const std::string value : {"-1", "65536", "70000", "http", "80x", " 80", "+80"}) {
    const Finished run = run_server({"--port", value});
    EXPECT_EQ(run.exit_code, 2) << "--port '" << value << "': " << run.err;
    EXPECT_TRUE(mentions(run.err, "'--port' takes a whole number from 0 to 65535, not '" + value))
        << run.err;
  }
}

TEST(CommandLine, PortTakesItsWholeRange) {
  int exit_code = -1;
  for (const char* value : {"0", "1", "65535"}) {
    const char* args[] = {"p2pcdn-server", "--port", value};
    const auto config = server::parse_server_config(3, args, exit_code);
    ASSERT_TRUE(config) << value;
    EXPECT_EQ(config->port, std::stoi(value));
  }
}

TEST(CommandLine, EveryNumericFlagRefusesNegativeAndMalformedValues) {
  for (const std::string& flag : kWholeNumberFlags) {
    for (const std::string value : {"-1", "12abc", "99999999999999999999999"}) {
      const Finished run = run_server({flag, value});
      EXPECT_EQ(run.exit_code, 2) << flag << " '" << value << "': " << run.err;
      EXPECT_TRUE(mentions(run.err, "'" + flag + "' takes a whole number")) << run.err;
      EXPECT_TRUE(mentions(run.err, "(see --help)")) << run.err;
    }
  }
  for (const std::string& flag : kFractionFlags) {
    for (const std::string value : {"-1", "12abc", "nan", "inf"}) {
      const Finished run = run_server({flag, value});
      EXPECT_EQ(run.exit_code, 2) << flag << " '" << value << "': " << run.err;
      EXPECT_TRUE(mentions(run.err, "'" + flag + "' takes a finite number")) << run.err;
    }
  }
}

TEST(CommandLine, NumericFlagsStillTakeOrdinaryValues) {
  int exit_code = -1;
  const char* args[] = {"p2pcdn-server",
                        "--max-send-queue",
                        "18446744073709551615",
                        "--messages-per-second",
                        "2.5",
                        "--max-connections",
                        "1",
                        "--cache-max-age",
                        "0",
                        "--max-relay-in-per-second",
                        "1e3"};
  const auto config = server::parse_server_config(11, args, exit_code);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->max_send_queue_bytes, UINT64_MAX);
  EXPECT_EQ(config->messages_per_second, 2.5);
  EXPECT_EQ(config->max_connections, 1u);
  EXPECT_EQ(config->cache_max_age_s, 0u);
  EXPECT_EQ(config->max_relay_in_per_second, 1000);
}

class RootFlag : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("p2pcdn-root-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "site");
    std::ofstream(dir_ / "file.txt") << "not a folder";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(RootFlag, MissingFolderIsRefusedAtStart) {
  const std::string missing = (dir_ / "no-such-site").string();
  const Finished run = run_server({"--root", missing});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(mentions(run.err, "--root '" + missing + "'")) << run.err;
  EXPECT_TRUE(mentions(run.err, "No such file or directory")) << run.err;
}

TEST_F(RootFlag, FileIsRefusedAtStart) {
  const std::string file = (dir_ / "file.txt").string();
  const Finished run = run_server({"--root", file});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(mentions(run.err, "--root '" + file + "' is not a folder")) << run.err;
}

TEST_F(RootFlag, FolderIsTaken) {
  int exit_code = -1;
  const std::string site = (dir_ / "site").string();
  const char* args[] = {"p2pcdn-server", "--root", site.c_str()};
  const auto config = server::parse_server_config(3, args, exit_code);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->root, site);
}

TEST(CommandLine, ServerPrintsItsVersion) {
  const Finished run = run_to_exit({P2PCDN_SERVER_BINARY, "--version"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "p2pcdn-server " P2PCDN_VERSION "\n");
  EXPECT_EQ(run.err, "");
}

TEST(CommandLine, ManifestToolPrintsItsVersion) {
  const Finished run = run_to_exit({P2PCDN_MANIFEST_BINARY, "--version"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "p2pcdn-manifest " P2PCDN_VERSION "\n");
}

TEST(CommandLine, UnknownFlagIsAnErrorThatPointsToHelp) {
  const Finished run = run_server({"--no-such-flag"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(mentions(run.err, "'--no-such-flag'")) << run.err;
  EXPECT_TRUE(mentions(run.err, "(see --help)")) << run.err;
}

TEST(CommandLine, StrayArgumentIsAnErrorThatPointsToHelp) {
  const Finished run = run_server({"8080"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(mentions(run.err, "(see --help)")) << run.err;
}

}  // namespace
}  // namespace p2pcdn::testing
