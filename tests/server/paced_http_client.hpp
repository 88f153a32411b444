// An HTTP/1.1 client on a bare socket, plain or TLS, that reads responses at the pace a test
// sets and sends requests as slowly as it likes: for the server's timeouts. Its receive
// buffer is fixed, so the kernel's autotuning cannot swallow a large body at once. Every wait
// is bounded.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "test_client.hpp"

namespace p2pcdn::testing {

inline constexpr int kPacedReceiveBuffer = 256 * 1024;

inline long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

class PacedClient {
 public:
  enum class Got { kData, kNothing, kEnd };

  // tls: speak TLS, trusting any certificate (tests make their own).
  explicit PacedClient(uint16_t port, bool tls = false) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) return;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &kPacedReceiveBuffer, sizeof kPacedReceiveBuffer);
    // Bounds the blocking calls: connect, the TLS handshake, sends, the rest of a TLS record.
    const timeval wait{kWaitMs / 1000, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    (!tls || start_tls());
    if (!up) close();
  }
  ~PacedClient() { close(); }
  PacedClient(const PacedClient&) = delete;
  PacedClient& operator=(const PacedClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  // False once the server has closed.
  bool send(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t n = ssl_ != nullptr
                            ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                            : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Waits at most `ms` for bytes, and appends at most `max` of them to `in`.
  Got receive(std::string& in, size_t max, int ms) const {
    const bool buffered = ssl_ != nullptr && SSL_pending(ssl_) > 0;
    pollfd p{fd_, POLLIN, 0};
    if (!buffered && ::poll(&p, 1, ms) <= 0) return Got::kNothing;
    const size_t old = in.size();
    in.resize(old + max);
    const ssize_t n = ssl_ != nullptr ? SSL_read(ssl_, in.data() + old, static_cast<int>(max))
                                      : ::recv(fd_, in.data() + old, max, 0);
    in.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    return n > 0 ? Got::kData : Got::kEnd;  // 0: the server closed; < 0: it reset
  }

  std::string leftover;  // bytes read past the response read_response() wanted

 private:
  bool start_tls() {
    tls_context_ = SSL_CTX_new(TLS_client_method());
    if (tls_context_ == nullptr) return false;
    ssl_ = SSL_new(tls_context_);
    return ssl_ != nullptr && SSL_set_fd(ssl_, fd_) == 1 && SSL_connect(ssl_) == 1;
  }
  void close() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (tls_context_ != nullptr) SSL_CTX_free(tls_context_);
    if (fd_ >= 0) ::close(fd_);
    ssl_ = nullptr;
    tls_context_ = nullptr;
    fd_ = -1;
  }

  int fd_;
  SSL_CTX* tls_context_ = nullptr;
  SSL* ssl_ = nullptr;
};

inline std::string request(const std::string& target, const std::string& extra_headers = "") {
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
inline size_t parse_head(const std::string& in, Response& r) {
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
inline uint64_t allowance(std::chrono::steady_clock::time_point start, uint64_t bytes_per_second) {
  if (bytes_per_second == 0) return UINT64_MAX;
  return 16 * 1024 + bytes_per_second * static_cast<uint64_t>(ms_since(start)) / 1000;
}

// Reads one response at `bytes_per_second` on average, giving up after `limit_ms`.
inline Response read_response(PacedClient& client, uint64_t bytes_per_second, int limit_ms) {
  const auto start = std::chrono::steady_clock::now();
  Response r;
  std::string in = std::move(client.leftover);
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
  if (body_start == 0) return r;
  const size_t end = std::min<size_t>(in.size(), body_start + r.length);
  client.leftover = in.substr(end);  // the next response, when requests were pipelined
  r.body = in.substr(body_start, end - body_start);
  return r;
}

}  // namespace p2pcdn::testing
