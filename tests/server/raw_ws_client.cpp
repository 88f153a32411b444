#include "raw_ws_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string_view>

namespace p2pcdn::testing {
namespace {

// The upgrade request's head but for Origin and the empty line: RFC 6455 section 1.3's
// example key, and the accept value it must produce.
constexpr std::string_view kUpgradeRequest =
    "GET /signal HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
constexpr std::string_view kExpectedAccept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

}  // namespace

RawWsClient::~RawWsClient() {
  close();
}

bool RawWsClient::connect(uint16_t port, const std::vector<uint8_t>& early,
                          const std::string& origin) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return false;
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // byte-by-byte sends stay apart
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  std::string upgrade(kUpgradeRequest);
  if (!origin.empty()) upgrade += "Origin: " + origin + "\r\n";
  upgrade += "\r\n";
  std::vector<uint8_t> request(upgrade.begin(), upgrade.end());
  request.insert(request.end(), early.begin(), early.end());
  send(request);
  // The response head ends with an empty line; frames may follow it in the same read.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  size_t head_end = std::string::npos;
  while (head_end == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    if (!fill(in_.size() + 1, kWaitMs)) return false;
    head_end =
        std::string_view(reinterpret_cast<const char*>(in_.data()), in_.size()).find("\r\n\r\n");
  }
  if (head_end == std::string::npos) return false;
  const std::string head(in_.begin(), in_.begin() + static_cast<long>(head_end));
  in_.erase(in_.begin(), in_.begin() + static_cast<long>(head_end + 4));
  return head.rfind("HTTP/1.1 101", 0) == 0 && head.find(kExpectedAccept) != std::string::npos;
}

void RawWsClient::send(const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server has gone; reads will say so
    sent += static_cast<size_t>(n);
  }
}

bool RawWsClient::fill(size_t needed, int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (in_.size() < needed && !ended_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    uint8_t chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      ended_ = true;
      break;
    }
    in_.insert(in_.end(), chunk, chunk + n);
  }
  return in_.size() >= needed;
}

std::optional<RawWsClient::Frame> RawWsClient::read_frame(int ms) {
  if (!fill(2, ms)) return std::nullopt;
  size_t header = 2;
  uint64_t length = in_[1] & 0x7F;
  if (length >= 126) {
    const size_t bytes = length == 126 ? 2 : 8;
    if (!fill(2 + bytes, ms)) return std::nullopt;
    length = 0;
    for (size_t i = 0; i < bytes; ++i) length = length << 8 | in_[2 + i];
    header += bytes;
  }
  if (!fill(header + length, ms)) return std::nullopt;
  Frame frame{static_cast<uint8_t>(in_[0] & 0x0F),
              std::vector<uint8_t>(in_.begin() + static_cast<long>(header),
                                   in_.begin() + static_cast<long>(header + length))};
  in_.erase(in_.begin(), in_.begin() + static_cast<long>(header + length));
  return frame;
}

uint16_t RawWsClient::read_close_code(int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto frame = read_frame(ms);
    if (!frame) return 0;
    if (frame->opcode != 0x8) continue;
    if (frame->payload.size() < 2) return 1005;
    return static_cast<uint16_t>(frame->payload[0] << 8 | frame->payload[1]);
  }
  return 0;
}

bool RawWsClient::wait_end_of_stream(int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!ended_ && std::chrono::steady_clock::now() < deadline) {
    in_.clear();
    fill(1, 50);
  }
  return ended_;
}

void RawWsClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace p2pcdn::testing
