// A WebSocket client on a bare POSIX socket, for sending what no real client would: frames
// made by hand, split or broken at will. Every wait is bounded.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "test_client.hpp"

namespace p2pcdn::testing {

class RawWsClient {
 public:
  RawWsClient() = default;
  ~RawWsClient();
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;

  // Sends the RFC 6455 example upgrade request to /signal with this Origin header (none if
  // empty), followed at once by `early` (as a client should not), and reads the response
  // head. True on a 101 with the right Sec-WebSocket-Accept.
  bool connect(uint16_t port, const std::vector<uint8_t>& early = {},
               const std::string& origin = kTestOrigin);
  void send(const std::vector<uint8_t>& bytes);

  struct Frame {
    uint8_t opcode = 0;
    std::vector<uint8_t> payload;
  };
  // The next frame from the server, or nothing if none came in time or the stream ended.
  std::optional<Frame> read_frame(int ms = kWaitMs);
  // Reads until a close frame: its code (1005 for an empty one), or 0 if none came.
  uint16_t read_close_code(int ms = kWaitMs);
  // True once the server has closed its side of the TCP connection.
  bool wait_end_of_stream(int ms = kWaitMs);
  void close();

 private:
  bool fill(size_t needed, int ms);  // reads until `needed` bytes are buffered
  int fd_ = -1;
  std::vector<uint8_t> in_;
  bool ended_ = false;
};

}  // namespace p2pcdn::testing
