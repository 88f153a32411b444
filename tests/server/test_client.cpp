// Beast behind test_client.hpp: one translation unit for every server test.
#include "test_client.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <chrono>

namespace p2pcdn::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using PlainWs = websocket::stream<beast::tcp_stream>;
using SecureWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// Runs queued operations for at most `ms`; true if `done` became true in time.
bool run_until(net::io_context& io, const bool& done, int ms = kWaitMs) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
    if (io.stopped()) io.restart();
  }
  return done;
}

}  // namespace

struct WsClient::Impl {
  net::io_context io;
  net::ssl::context tls_context{net::ssl::context::tls_client};
  bool tls;
  std::optional<PlainWs> plain;
  std::optional<SecureWs> secure;
  beast::flat_buffer buffer;
  unsigned http_status = 0;
  bool closed = false;

  explicit Impl(bool use_tls) : tls(use_tls) { tls_context.set_verify_mode(net::ssl::verify_none); }

  // Calls f with whichever stream this client uses.
  template <class F>
  auto with(F&& f) {
    return tls ? f(*secure) : f(*plain);
  }

  template <class Ws>
  bool connect(Ws& ws, uint16_t port, const std::string& origin, const std::string& target) {
    beast::error_code ec;
    auto& tcp_layer = beast::get_lowest_layer(ws);
    tcp_layer.expires_after(std::chrono::milliseconds(kWaitMs));
    tcp_layer.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return false;
    if constexpr (std::is_same_v<Ws, SecureWs>) {
      ws.next_layer().handshake(net::ssl::stream_base::client, ec);
      if (ec) return false;
    }
    ws.set_option(websocket::stream_base::decorator([origin](websocket::request_type& req) {
      if (!origin.empty()) req.set(http::field::origin, origin);
    }));
    websocket::response_type res;
    ws.handshake(res, "127.0.0.1", target, ec);
    http_status = res.result_int();
    tcp_layer.expires_never();
    ws.binary(true);
    return !ec;
  }

  template <class Ws>
  std::optional<SignalMessage> read(Ws& ws, int ms) {
    bool done = false;
    beast::error_code result;
    buffer.clear();
    ws.async_read(buffer, [&](beast::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    if (!run_until(io, done, ms)) {
      beast::get_lowest_layer(ws).cancel();
      run_until(io, done, kWaitMs);
      return std::nullopt;
    }
    if (result) {
      closed = true;
      return std::nullopt;
    }
    const auto data = buffer.cdata();
    auto decoded = decode_signal(ByteView(static_cast<const uint8_t*>(data.data()), data.size()));
    if (!decoded) return std::nullopt;
    return decoded.value();
  }
};

WsClient::WsClient(bool tls) : impl_(std::make_unique<Impl>(tls)) {}
WsClient::~WsClient() = default;

bool WsClient::connect(uint16_t port, const std::string& origin, const std::string& target) {
  if (impl_->tls) {
    impl_->secure.emplace(impl_->io, impl_->tls_context);
  } else {
    impl_->plain.emplace(impl_->io);
  }
  return impl_->with([&](auto& ws) { return impl_->connect(ws, port, origin, target); });
}

void WsClient::send(const SignalMessage& message) {
  send_raw(encode_signal(message).value());
}

void WsClient::send_raw(const std::vector<uint8_t>& bytes, bool text) {
  impl_->with([&](auto& ws) {
    ws.text(text);
    beast::error_code ec;
    ws.write(net::buffer(bytes), ec);
    return 0;
  });
}

std::optional<SignalMessage> WsClient::read(int ms) {
  return impl_->with([&](auto& ws) { return impl_->read(ws, ms); });
}

uint16_t WsClient::wait_close(int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!impl_->closed && std::chrono::steady_clock::now() < deadline) read(ms);
  if (!impl_->closed) return 0;
  return impl_->with([](auto& ws) { return static_cast<uint16_t>(ws.reason().code); });
}

bool WsClient::sync() {
  send(Heartbeat{0xC0FFEE});
  for (int i = 0; i < 1000; ++i) {
    auto m = read();
    if (!m) return false;
    if (auto* ack = std::get_if<HeartbeatAck>(&*m); ack && ack->sent_at_ms == 0xC0FFEE) return true;
  }
  return false;
}

PeerId WsClient::join(const std::string& site, const std::string& key) {
  send(Join{site, key, 0});
  auto welcome = read_as<Welcome>();
  return welcome ? welcome->peer_id : PeerId{};
}

void WsClient::close() {
  if (!impl_->plain && !impl_->secure) return;
  impl_->with([](auto& ws) {
    beast::error_code ec;
    if (ws.is_open()) ws.close(websocket::close_code::normal, ec);
    return 0;
  });
}

unsigned WsClient::http_status() const {
  return impl_->http_status;
}
bool WsClient::closed() const {
  return impl_->closed;
}

HttpReply http_get(uint16_t port, const std::string& target,
                   std::vector<std::pair<std::string, std::string>> headers,
                   const std::string& method) {
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::milliseconds(kWaitMs));
  HttpReply reply;
  beast::error_code ec;
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return reply;
  const http::verb verb = http::string_to_verb(method);
  http::request<http::empty_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (auto& [name, value] : headers) req.set(name, value);
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(verb == http::verb::head);
  if (!ec) http::read(stream, buffer, parser, ec);
  if (ec) return reply;
  auto res = parser.release();
  reply.status = res.result_int();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
  reply.text = std::move(res.body());
  return reply;
}

}  // namespace p2pcdn::testing
