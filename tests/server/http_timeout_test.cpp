// --http-timeout-ms: a request, headers and body, must arrive within it (slow loris), and a
// response may go that long without the client taking any of it. A slow but steady download
// lasting many timeouts is never cut.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "http_routes.hpp"
#include "paced_http_client.hpp"
#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kTimeoutMs = 500;
// Above this, the large file these tests need would be unreasonably large.
constexpr uint64_t kLargestSendBuffer = 16 << 20;

// The most a socket's send buffer grows to (tcp_wmem's third field; on loopback the server's
// grows to it at once). The server's write waits only once that buffer is full, and wakes only
// after about a third of it has drained: that is how much a client must take within one timeout
// for the server to see progress.
uint64_t send_buffer_max() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  uint64_t min = 0, initial = 0, max = 0;
  in >> min >> initial >> max;
  return max > 0 ? max : 4 << 20;
}

// Sends `first`, then `drip` every 100 ms; when the server closed, in ms, or -1 if it had not
// after a while. What the server sent, if anything, goes to `reply`.
long long drip_until_cut(const PacedClient& client, const std::string& first,
                         const std::string& drip, std::string& reply) {
  const auto start = Clock::now();
  if (!client.send(first)) return 0;
  while (ms_since(start) < kTimeoutMs + 2000) {
    if (client.receive(reply, 4096, 100) == PacedClient::Got::kEnd) return ms_since(start);
    if (!client.send(drip)) return ms_since(start);
  }
  return -1;
}

// Connections the server holds, counting the one that asks.
long long connections_open(uint16_t port) {
  const std::string body = http_get(port, "/metrics", {{"connection", "close"}}).body();
  const std::string name = "\np2pcdn_connections_open ";
  const size_t at = body.find(name);
  return at == std::string::npos ? -1 : std::stoll(body.substr(at + name.size()));
}

class HttpTimeout : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("p2pcdn-http-timeout-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "site");
    // Read at this rate, a third of the server's send buffer drains in a third of a timeout;
    // the file lasts the kernel's buffers plus four timeouts.
    const uint64_t buffer = std::min(send_buffer_max(), kLargestSendBuffer);
    rate_ = buffer * 1000 / kTimeoutMs;
    film_.resize(buffer + 2 * kPacedReceiveBuffer + rate_ * 4 * kTimeoutMs / 1000);
    for (size_t i = 0; i < film_.size(); ++i) film_[i] = static_cast<char>((i * 7) ^ (i >> 12));
    std::ofstream(dir_ / "site" / "film.webm", std::ios::binary) << film_;
    std::ofstream(dir_ / "site" / "small.txt", std::ios::binary) << "small\n";
    auto config = test_config();
    config.root = (dir_ / "site").string();
    config.http_timeout_ms = kTimeoutMs;
    if (tls_) {
      ASSERT_TRUE(make_certificate(config));
    }
    server_ = std::make_unique<RunningServer>(config);
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  bool make_certificate(server::ServerConfig& config) const {
    config.cert_file = (dir_ / "cert.pem").string();
    config.key_file = (dir_ / "key.pem").string();
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=127.0.0.1 -keyout " +
        config.key_file + " -out " + config.cert_file + " >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }
  uint16_t port() const { return server_->port(); }
  static bool buffers_too_large() { return send_buffer_max() > kLargestSendBuffer; }

  bool tls_ = false;
  fs::path dir_;
  uint64_t rate_ = 0;  // bytes per second of the slow reader
  std::string film_;
  std::unique_ptr<RunningServer> server_;
};

// The same over TLS, where each piece the server writes is a record or two.
class HttpsTimeout : public HttpTimeout {
 protected:
  HttpsTimeout() { tls_ = true; }
};

// Reads the film slowly, many timeouts long, over `client`.
void expect_slow_download(PacedClient& client, const std::string& film, uint64_t rate) {
  ASSERT_TRUE(client.connected());
  const auto start = Clock::now();
  // The second request goes at once (pipelined): a client that sent it only after the last
  // byte would find the connection closed, since the server's wait for it began when the
  // kernel took the film's last byte, while this client still had megabytes to read.
  ASSERT_TRUE(client.send(request("/film.webm") + request("/small.txt")));
  const Response got = read_response(client, rate, 30000);
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.length, film.size());
  EXPECT_TRUE(got.body == film) << got.body.size() << " of " << film.size() << " bytes";
  // Several timeouts long: a deadline on the whole exchange would have cut it.
  EXPECT_GE(ms_since(start), 4 * kTimeoutMs);
  // The connection outlives a long response.
  EXPECT_EQ(read_response(client, 0, kWaitMs).body, "small\n");
}

TEST_F(HttpTimeout, ASlowButSteadyReaderGetsAWholeLargeFile) {
  if (buffers_too_large()) GTEST_SKIP() << "tcp_wmem allows over 16 MiB per socket";
  PacedClient client(port());
  expect_slow_download(client, film_, rate_);
}

// A 206 is answered from memory (up to 8 MiB), written in as many pieces as the kernel takes.
TEST_F(HttpTimeout, ALargeRangeReadSlowlyArrivesWhole) {
  PacedClient client(port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(request("/film.webm", "Range: bytes=1000-\r\n")));
  const Response part = read_response(client, rate_, 30000);
  const uint64_t size = std::min<uint64_t>(film_.size() - 1000, server::kMaxRangeBytes);
  EXPECT_EQ(part.status, 206u);
  EXPECT_EQ(part.length, size);
  EXPECT_TRUE(part.body == film_.substr(1000, size)) << part.body.size() << " of " << size;
}

TEST_F(HttpTimeout, AReaderThatStopsIsCutAboutATimeoutLater) {
  if (buffers_too_large()) GTEST_SKIP() << "tcp_wmem allows over 16 MiB per socket";
  PacedClient client(port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(request("/film.webm")));
  const auto start = Clock::now();
  // The server fills the kernel's buffers at once, then waits on a client that reads nothing.
  long long last_seen_open = -1, seen_cut = -1;
  while (seen_cut < 0 && ms_since(start) < kTimeoutMs + 2000) {
    const long long asked = ms_since(start);
    if (connections_open(port()) == 1) {
      seen_cut = ms_since(start);
    } else {
      last_seen_open = asked;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_GE(seen_cut, 0) << "still open";
  EXPECT_GE(last_seen_open, kTimeoutMs - 150) << "cut before the timeout";
  EXPECT_LE(seen_cut, kTimeoutMs + 1000);
  // What the kernel already held still arrives, then the end: a short body.
  const Response rest = read_response(client, 0, kWaitMs);
  EXPECT_EQ(rest.status, 200u);
  EXPECT_LT(rest.body.size(), film_.size());
  EXPECT_TRUE(rest.ended);
}

TEST_F(HttpTimeout, AnIdleKeptAliveConnectionIsClosedAfterTheTimeout) {
  PacedClient client(port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(request("/small.txt")));
  EXPECT_EQ(read_response(client, 0, kWaitMs).body, "small\n");
  const auto start = Clock::now();
  std::string more;
  PacedClient::Got got = PacedClient::Got::kNothing;
  while (got == PacedClient::Got::kNothing && ms_since(start) < kTimeoutMs + 2000) {
    got = client.receive(more, 4096, 100);
  }
  EXPECT_EQ(got, PacedClient::Got::kEnd);
  EXPECT_GE(ms_since(start), kTimeoutMs * 9 / 10);
  EXPECT_LE(ms_since(start), kTimeoutMs + 1000);
  EXPECT_TRUE(more.empty());
}

TEST_F(HttpTimeout, AHeadSentSlowlyIsCutAtTheTimeout) {
  PacedClient client(port());
  ASSERT_TRUE(client.connected());
  std::string reply;
  // One header line every 100 ms: steady, but the head never completes within the timeout.
  const long long cut = drip_until_cut(client, "GET /small.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                       "X-Drip: 1\r\n", reply);
  ASSERT_GE(cut, 0) << "still open";
  EXPECT_GE(cut, kTimeoutMs * 9 / 10);
  EXPECT_LE(cut, kTimeoutMs + 1000);
  EXPECT_TRUE(reply.empty()) << reply;
}

TEST_F(HttpTimeout, ABodySentSlowlyIsCutAtTheTimeout) {
  PacedClient client(port());
  ASSERT_TRUE(client.connected());
  std::string reply;
  // 100 bytes every 100 ms of a 10,000-byte body: ten seconds if the server waited.
  const long long cut = drip_until_cut(client, request("/small.txt", "Content-Length: 10000\r\n"),
                                       std::string(100, 'x'), reply);
  ASSERT_GE(cut, 0) << "still open";
  EXPECT_GE(cut, kTimeoutMs * 9 / 10);
  EXPECT_LE(cut, kTimeoutMs + 1000);
  EXPECT_TRUE(reply.empty()) << reply;
}

TEST_F(HttpsTimeout, ASlowButSteadyReaderGetsAWholeLargeFile) {
  if (buffers_too_large()) GTEST_SKIP() << "tcp_wmem allows over 16 MiB per socket";
  PacedClient client(port(), /*tls=*/true);
  expect_slow_download(client, film_, rate_);
}

TEST_F(HttpsTimeout, AReaderThatStopsIsCut) {
  if (buffers_too_large()) GTEST_SKIP() << "tcp_wmem allows over 16 MiB per socket";
  PacedClient client(port(), /*tls=*/true);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(request("/film.webm")));
  std::this_thread::sleep_for(std::chrono::milliseconds(kTimeoutMs + 500));
  const Response rest = read_response(client, 0, kWaitMs);
  EXPECT_EQ(rest.status, 200u);
  EXPECT_LT(rest.body.size(), film_.size());
  EXPECT_TRUE(rest.ended);
}

}  // namespace
}  // namespace p2pcdn::testing
