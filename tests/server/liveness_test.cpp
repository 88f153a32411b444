// Heartbeat expiry, and a graceful shutdown on SIGTERM of the real binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

constexpr const char* kSite = "https://site.example";

TEST(Liveness, SilentPeersAreDroppedAndPurged) {
  auto config = test_config();
  config.heartbeat_interval_ms = 100;
  config.peer_timeout_ms = 300;
  RunningServer server(config);
  WsClient silent, alive;
  ASSERT_TRUE(silent.connect(server.port()));
  ASSERT_TRUE(alive.connect(server.port()));
  silent.join(kSite);
  alive.join(kSite);
  silent.send(Announce{{resource(1)}});
  silent.sync();
  // `alive` keeps sending heartbeats; `silent` sends nothing more.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    alive.send(Heartbeat{static_cast<uint64_t>(i)});
    ASSERT_TRUE(alive.read_as<HeartbeatAck>());
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  EXPECT_EQ(silent.wait_close(1000), 4000);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_LT(waited, std::chrono::milliseconds(2000));  // bounded: timeout + one sweep
  alive.send(Lookup{1, resource(1), 5});
  auto peers = alive.read_as<Peers>();
  ASSERT_TRUE(peers);
  EXPECT_TRUE(peers->peers.empty());
  EXPECT_FALSE(alive.closed());
}

// Starts p2pcdn-server as a child process; reads its port from the "listening" log line.
struct ChildServer {
  pid_t pid = -1;
  uint16_t port = 0;
  FILE* log = nullptr;

  bool start() {
    int fds[2];
    if (pipe(fds) != 0) return false;
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      execl(P2PCDN_SERVER_BINARY, P2PCDN_SERVER_BINARY, "--bind", "127.0.0.1", "--port", "0",
            "--shutdown-grace-ms", "3000", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    log = fdopen(fds[0], "r");
    char line[512];
    while (log != nullptr && std::fgets(line, sizeof line, log) != nullptr) {
      const std::string text(line);
      const size_t at = text.find(" port=");
      if (text.find("event=listening") != std::string::npos && at != std::string::npos) {
        port = static_cast<uint16_t>(std::stoi(text.substr(at + 6)));
        return true;
      }
    }
    return false;
  }
  // Waits at most `ms` for the child to exit; its exit status, or -1.
  int wait_exit(int ms) {
    for (int i = 0; i < ms / 10; ++i) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  ~ChildServer() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (log != nullptr) fclose(log);
  }
};

TEST(Liveness, SigtermDeliversQueuedRelaysThenCloses) {
  ChildServer child;
  ASSERT_TRUE(child.start());
  WsClient a, b;
  ASSERT_TRUE(a.connect(child.port));
  ASSERT_TRUE(b.connect(child.port));
  a.join(kSite);
  const PeerId id_b = b.join(kSite);
  for (int i = 0; i < 50; ++i)
    a.send(Relay{id_b, RelayKind::kCandidate, "candidate " + std::to_string(i)});
  a.send(Heartbeat{1});
  ASSERT_TRUE(a.read_as<HeartbeatAck>());  // the server has taken every relay
  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  for (int i = 0; i < 50; ++i) {
    auto relay = b.read_as<Relay>();
    ASSERT_TRUE(relay) << i;
    EXPECT_EQ(relay->payload, "candidate " + std::to_string(i));
  }
  EXPECT_EQ(b.wait_close(), 1001);
  EXPECT_EQ(a.wait_close(), 1001);
  EXPECT_EQ(child.wait_exit(5000), 0);
  // No longer listening.
  WsClient late;
  EXPECT_FALSE(late.connect(child.port));
}

TEST(Liveness, BadFlagsAndBusyPortsFailClearly) {
  auto run = [](std::vector<const char*> args) {
    pid_t pid = fork();
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
      args.insert(args.begin(), P2PCDN_SERVER_BINARY);
      args.push_back(nullptr);
      execv(P2PCDN_SERVER_BINARY, const_cast<char* const*>(args.data()));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_EQ(run({"--no-such-flag"}), 2);
  EXPECT_EQ(run({"--port", "notanumber"}), 2);
  EXPECT_EQ(run({"--cert", "/nonexistent"}), 2);  // --key missing
  EXPECT_EQ(run({"--heartbeat-interval-ms", "1000", "--peer-timeout-ms", "500"}), 2);
  EXPECT_EQ(run({"--max-send-queue", "100000"}), 2);  // under twice --max-message-size
  EXPECT_EQ(run({"--max-relay-in-per-second", "0"}), 2);
  EXPECT_EQ(run({"--max-peers-per-ip-per-swarm", "0"}), 2);
  RunningServer busy(test_config());
  const std::string port = std::to_string(busy.port());
  EXPECT_EQ(run({"--bind", "127.0.0.1", "--port", port.c_str()}), 1);
}

TEST(Liveness, HardeningFlagsAreParsed) {
  int exit_code = -1;
  const char* defaults[] = {"p2pcdn-server"};
  auto config = server::parse_server_config(1, defaults, exit_code);
  ASSERT_TRUE(config);
  EXPECT_FALSE(config->allow_no_origin);
  EXPECT_EQ(config->max_relay_in_per_second, 100);
  EXPECT_EQ(config->max_peers_per_ip_per_swarm, 16u);
  EXPECT_EQ(config->max_announced_per_ip, 20000u);
  const char* args[] = {"p2pcdn-server",
                        "--allow-no-origin",
                        "--max-relay-in-per-second",
                        "250",
                        "--max-peers-per-ip-per-swarm",
                        "40",
                        "--max-announced-per-ip",
                        "50000"};
  config = server::parse_server_config(8, args, exit_code);
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->allow_no_origin);
  EXPECT_EQ(config->max_relay_in_per_second, 250);
  EXPECT_EQ(config->max_peers_per_ip_per_swarm, 40u);
  EXPECT_EQ(config->max_announced_per_ip, 50000u);
}

}  // namespace
}  // namespace p2pcdn::testing
