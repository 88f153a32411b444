// A real WebSocket/HTTP client for server tests (Beast), with every wait bounded.
#pragma once
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "p2pcdn/signal.hpp"
#include "signal_server.hpp"

namespace p2pcdn::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

inline constexpr int kWaitMs = 3000;  // the longest any single step may take

// Runs queued operations for at most `ms`; true if `done` became true in time.
inline bool run_until(net::io_context& io, const bool& done, int ms = kWaitMs) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
    if (io.stopped()) io.restart();
  }
  return done;
}

template <class Next>
class BasicWsClient {
 public:
  explicit BasicWsClient(net::ssl::context* tls = nullptr) : tls_(tls) {}

  // Opens a WebSocket to /signal. False if refused; http_status() then tells why.
  bool connect(uint16_t port, const std::string& origin = "",
               const std::string& target = "/signal");

  void send(const SignalMessage& message) {
    auto bytes = encode_signal(message);
    send_raw(bytes.value());
  }
  void send_raw(const std::vector<uint8_t>& bytes, bool text = false) {
    ws_->text(text);
    beast::error_code ec;
    ws_->write(net::buffer(bytes), ec);
  }
  // The next message, or nothing if the connection closed or nothing came in time.
  std::optional<SignalMessage> read(int ms = kWaitMs) {
    bool done = false;
    beast::error_code result;
    buffer_.clear();
    ws_->async_read(buffer_, [&](beast::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    if (!run_until(io_, done, ms)) {
      beast::get_lowest_layer(*ws_).cancel();
      run_until(io_, done, kWaitMs);
      timed_out_ = true;
      return std::nullopt;
    }
    if (result) {
      closed_ = true;
      return std::nullopt;
    }
    const auto data = buffer_.cdata();
    auto decoded = decode_signal(ByteView(static_cast<const uint8_t*>(data.data()), data.size()));
    if (!decoded) return std::nullopt;
    return decoded.value();
  }
  template <class T>
  std::optional<T> read_as(int ms = kWaitMs) {
    auto m = read(ms);
    if (!m || !std::holds_alternative<T>(*m)) return std::nullopt;
    return std::get<T>(*m);
  }
  // Reads until the server closes; returns its close code (0 if none came in time).
  uint16_t wait_close(int ms = kWaitMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!closed_ && std::chrono::steady_clock::now() < deadline) read(ms);
    return closed_ ? static_cast<uint16_t>(ws_->reason().code) : 0;
  }
  // Returns once the server has processed everything this client sent before (messages
  // from one connection are handled in order; a heartbeat's ack comes after them).
  bool sync() {
    send(Heartbeat{0xC0FFEE});
    for (int i = 0; i < 1000; ++i) {
      auto m = read();
      if (!m) return false;
      if (auto* ack = std::get_if<HeartbeatAck>(&*m); ack && ack->sent_at_ms == 0xC0FFEE)
        return true;
    }
    return false;
  }
  PeerId join(const std::string& site, const std::string& key = "") {
    send(Join{site, key, 0});
    auto welcome = read_as<Welcome>();
    return welcome ? welcome->peer_id : PeerId{};
  }
  void close() {
    beast::error_code ec;
    if (ws_ && ws_->is_open()) ws_->close(websocket::close_code::normal, ec);
  }
  unsigned http_status() const { return http_status_; }
  bool closed() const { return closed_; }

 private:
  net::io_context io_;
  net::ssl::context* tls_;
  std::optional<websocket::stream<Next>> ws_;
  beast::flat_buffer buffer_;
  unsigned http_status_ = 0;
  bool closed_ = false;
  bool timed_out_ = false;
};

using WsClient = BasicWsClient<beast::tcp_stream>;
using WssClient = BasicWsClient<beast::ssl_stream<beast::tcp_stream>>;

template <class Next>
bool BasicWsClient<Next>::connect(uint16_t port, const std::string& origin,
                                  const std::string& target) {
  if constexpr (std::is_same_v<Next, beast::tcp_stream>) {
    ws_.emplace(io_);
  } else {
    ws_.emplace(io_, *tls_);
  }
  beast::error_code ec;
  auto& tcp_layer = beast::get_lowest_layer(*ws_);
  tcp_layer.expires_after(std::chrono::milliseconds(kWaitMs));
  tcp_layer.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return false;
  if constexpr (!std::is_same_v<Next, beast::tcp_stream>) {
    ws_->next_layer().handshake(net::ssl::stream_base::client, ec);
    if (ec) return false;
  }
  ws_->set_option(websocket::stream_base::decorator([origin](websocket::request_type& req) {
    if (!origin.empty()) req.set(http::field::origin, origin);
  }));
  websocket::response_type res;
  ws_->handshake(res, "127.0.0.1", target, ec);
  http_status_ = res.result_int();
  tcp_layer.expires_never();
  ws_->binary(true);
  return !ec;
}

// One HTTP request on a new connection; the response, or status 0 if none came.
inline http::response<http::string_body> http_get(
    uint16_t port, const std::string& target,
    std::vector<std::pair<http::field, std::string>> headers = {},
    http::verb method = http::verb::get) {
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::milliseconds(kWaitMs));
  http::response<http::string_body> res;
  beast::error_code ec;
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return res;
  http::request<http::empty_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (auto& [field, value] : headers) req.set(field, value);
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(method == http::verb::head);
  if (!ec) http::read(stream, buffer, parser, ec);
  return ec ? res : parser.release();
}

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
