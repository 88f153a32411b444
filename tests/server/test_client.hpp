// Real WebSocket and HTTP clients for the server tests, every wait bounded. Declarations
// only: Beast lives in test_client.cpp, compiled once instead of in every test file.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "p2pcdn/signal.hpp"
#include "signal_server.hpp"

namespace p2pcdn::testing {

inline constexpr int kWaitMs = 3000;  // the longest any single step may take
// The Origin test clients send unless told otherwise: the site most tests join. A browser
// always sends its page's origin, and the server refuses a JOIN without one by default.
inline constexpr const char* kTestOrigin = "https://site.example";

class WsClient {
 public:
  // tls: speak WSS, trusting any certificate (tests make their own).
  explicit WsClient(bool tls = false);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Opens a WebSocket to `target`, with this Origin header (none if empty). False if
  // refused; http_status() then tells why.
  bool connect(uint16_t port, const std::string& origin = kTestOrigin,
               const std::string& target = "/signal");
  void send(const SignalMessage& message);
  void send_raw(const std::vector<uint8_t>& bytes, bool text = false);
  // The next message, or nothing if the connection closed or nothing came in time.
  std::optional<SignalMessage> read(int ms = kWaitMs);
  template <class T>
  std::optional<T> read_as(int ms = kWaitMs) {
    auto m = read(ms);
    if (!m || !std::holds_alternative<T>(*m)) return std::nullopt;
    return std::get<T>(*m);
  }
  // Reads until the server closes; its close code, or 0 if none came in time.
  uint16_t wait_close(int ms = kWaitMs);
  // Returns once the server has handled everything sent before (one connection's messages
  // are handled in order; a heartbeat's ack comes after them).
  bool sync();
  PeerId join(const std::string& site, const std::string& key = "");
  void close();
  unsigned http_status() const;
  bool closed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpReply {
  unsigned status = 0;                         // 0: no answer
  std::map<std::string, std::string> headers;  // names in lower case
  std::string text;

  unsigned result_int() const { return status; }
  const std::string& body() const { return text; }
  std::string operator[](const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One request on a new connection to 127.0.0.1:port.
HttpReply http_get(uint16_t port, const std::string& target,
                   std::vector<std::pair<std::string, std::string>> headers = {},
                   const std::string& method = "GET");

// A server running on its own thread for the length of a test.
class RunningServer {
 public:
  explicit RunningServer(server::ServerConfig config) : server_(std::move(config)) {
    std::string error;
    port_ = server_.start(error);
    if (port_ != 0) thread_ = std::thread([this] { server_.run(); });
  }
  ~RunningServer() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    server_.request_shutdown();
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  server::SignalServer server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

inline server::ServerConfig test_config() {
  server::ServerConfig c;
  c.bind_address = "127.0.0.1";
  c.port = 0;
  c.log_level = "error";
  c.shutdown_grace_ms = 1000;
  return c;
}

inline ResourceId resource(uint8_t seed) {
  ResourceId id{};
  id.fill(seed);
  return id;
}

}  // namespace p2pcdn::testing
