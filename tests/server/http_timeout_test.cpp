// --http-timeout-ms: a request, headers and body, must arrive within it (slow loris), and a
// response may go that long without the client taking any of it. A slow but steady download
// lasting many timeouts is never cut.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "http_routes.hpp"
#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kTimeoutMs = 500;
// Fixed, so that the kernel's autotuning cannot grow it to swallow the whole body at once.
constexpr int kClientReceiveBuffer = 256 * 1024;
// Above this, the large file these tests need would be unreasonably large.
constexpr uint64_t kLargestSendBuffer = 16 << 20;

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

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

// A client on a bare socket with a fixed receive buffer, reading at the pace a test sets.
class PacedClient {
 public:
  enum class Got { kData, kNothing, kEnd };

  explicit PacedClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) return;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &kClientReceiveBuffer, sizeof kClientReceiveBuffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~PacedClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  PacedClient(const PacedClient&) = delete;
  PacedClient& operator=(const PacedClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  // False once the server has closed.
  bool send(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Waits at most `ms` for bytes, and appends at most `max` of them to `in`.
  Got receive(std::string& in, size_t max, int ms) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return Got::kNothing;
    const size_t old = in.size();
    in.resize(old + max);
    const ssize_t n = ::recv(fd_, in.data() + old, max, 0);
    in.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    return n > 0 ? Got::kData : Got::kEnd;  // 0: the server closed; < 0: it reset
  }

 private:
  int fd_;
};

std::string request(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

struct Response {
  unsigned status = 0;  // 0: no head came
  uint64_t length = 0;  // Content-Length
  std::string body;     // as much of it as came
  bool ended = false;   // the server closed the connection
};

// Takes status and Content-Length from `in` once the head is there; where the body starts,
// or 0 while the head is incomplete.
size_t parse_head(const std::string& in, Response& r) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  const std::string head = in.substr(0, end);
  r.status = static_cast<unsigned>(std::stoul(head.substr(9, 3)));  // "HTTP/1.1 200 OK"
  const size_t at = head.find("Content-Length: ");
  r.length = at == std::string::npos ? 0 : std::stoull(head.substr(at + 16));
  return end + 4;
}

// How much a reader of `bytes_per_second` (0: no limit) may have taken by now; the head is
// taken at once.
uint64_t allowance(Clock::time_point start, uint64_t bytes_per_second) {
  if (bytes_per_second == 0) return UINT64_MAX;
  return 16 * 1024 + bytes_per_second * static_cast<uint64_t>(ms_since(start)) / 1000;
}

// Reads one response at `bytes_per_second` on average, giving up after `limit_ms`.
Response read_response(const PacedClient& client, uint64_t bytes_per_second, int limit_ms) {
  const auto start = Clock::now();
  Response r;
  std::string in;
  size_t body_start = 0;
  while (ms_since(start) < limit_ms) {
    if (body_start == 0) body_start = parse_head(in, r);
    if (body_start != 0 && in.size() >= body_start + r.length) break;
    const uint64_t allowed = allowance(start, bytes_per_second);
    if (in.size() >= allowed) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    const size_t step = static_cast<size_t>(std::min<uint64_t>(256 * 1024, allowed - in.size()));
    if (client.receive(in, step, 50) == PacedClient::Got::kEnd) {
      r.ended = true;
      break;
    }
  }
  if (body_start == 0) body_start = parse_head(in, r);
  if (body_start != 0) r.body = in.substr(body_start);
  return r;
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
    root_ = fs::temp_directory_path() / ("p2pcdn-http-timeout-" + std::to_string(::getpid()));
    fs::create_directories(root_);
    // Read at this rate, a third of the server's send buffer drains in a third of a timeout;
    // the file lasts the kernel's buffers plus four timeouts.
    const uint64_t buffer = std::min(send_buffer_max(), kLargestSendBuffer);
    rate_ = buffer * 1000 / kTimeoutMs;
    film_.resize(buffer + 2 * kClientReceiveBuffer + rate_ * 4 * kTimeoutMs / 1000);
    for (size_t i = 0; i < film_.size(); ++i) film_[i] = static_cast<char>((i * 7) ^ (i >> 12));
    std::ofstream(root_ / "film.webm", std::ios::binary) << film_;
    std::ofstream(root_ / "small.txt", std::ios::binary) << "small\n";
    auto config = test_config();
    config.root = root_.string();
    config.http_timeout_ms = kTimeoutMs;
    server_ = std::make_unique<RunningServer>(config);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }
  uint16_t port() const { return server_->port(); }
  static bool buffers_too_large() { return send_buffer_max() > kLargestSendBuffer; }

  fs::path root_;
  uint64_t rate_ = 0;  // bytes per second of the slow reader
  std::string film_;
  std::unique_ptr<RunningServer> server_;
};

TEST_F(HttpTimeout, ASlowButSteadyReaderGetsAWholeLargeFile) {
  if (buffers_too_large()) GTEST_SKIP() << "tcp_wmem allows over 16 MiB per socket";
  PacedClient client(port());
  ASSERT_TRUE(client.connected());
  const auto start = Clock::now();
  ASSERT_TRUE(client.send(request("/film.webm")));
  const Response film = read_response(client, rate_, 30000);
  EXPECT_EQ(film.status, 200u);
  EXPECT_EQ(film.length, film_.size());
  EXPECT_TRUE(film.body == film_) << film.body.size() << " of " << film_.size() << " bytes";
  // Several timeouts long: a deadline on the whole exchange would have cut it.
  EXPECT_GE(ms_since(start), 4 * kTimeoutMs);
  // The connection stays open, and the next request is read under a fresh timeout.
  ASSERT_TRUE(client.send(request("/small.txt")));
  EXPECT_EQ(read_response(client, 0, kWaitMs).body, "small\n");
}

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

}  // namespace
}  // namespace p2pcdn::testing
