// The Beast sessions: TLS detection, HTTP, the WebSocket upgrade, and the signaling
// WebSocket over TLS. Kept in one translation unit because Beast templates are slow to
// compile. A plain WebSocket leaves Beast once the upgrade is answered
// (plain_websocket_session.cpp).
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "http_routes.hpp"
#include "plain_websocket_session.hpp"
#include "server_context.hpp"

namespace p2pcdn::server {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using PlainStream = beast::basic_stream<net::ip::tcp, net::io_context::executor_type>;
using TlsStream = beast::ssl_stream<PlainStream>;

constexpr uint32_t kMaxHttpHeader = 8 * 1024;
constexpr uint32_t kMaxHttpBody = 16 * 1024;  // GET/HEAD only; nothing needs a body

using Clock = std::chrono::steady_clock;

std::string milliseconds_since(Clock::time_point start) {
  const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start;
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", elapsed.count());
  return text;
}

// The access log's line for a WebSocket upgrade, once accepted.
void log_websocket_accepted(const ServerContext& ctx, const std::string& ip,
                            Clock::time_point start) {
  ctx.log.access({{"ip", ip},
                  {"method", "GET"},
                  {"path", "/signal"},
                  {"status", "101"},
                  {"ms", milliseconds_since(start)}});
}

// The signaling WebSocket over TLS, on Beast's stream.
class TlsWebSocketSession : public PeerLink,
                            public std::enable_shared_from_this<TlsWebSocketSession> {
 public:
  TlsWebSocketSession(TlsStream&& stream, ServerContext& ctx, ConnectionTicket ticket)
      : ws_(std::move(stream)), ctx_(ctx), ticket_(std::move(ticket)) {}

  void run(HttpRequest request) {
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket has its own timeouts
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(beast::http::field::server, "p2pcdn-server");
    }));
    ws_.read_message_max(ctx_.config.max_message_size);
    ws_.auto_fragment(false);
    ws_.binary(true);
    origin_ = std::string(request[beast::http::field::origin]);
    if (ctx_.config.access_log) upgrade_start_ = Clock::now();
    ws_.async_accept(request, beast::bind_front_handler(&TlsWebSocketSession::on_accept,
                                                        this->shared_from_this()));
  }

  void send(std::shared_ptr<const std::vector<uint8_t>> message) override {
    if (closing_ || !connected_) return;
    if (queued_bytes_ + message->size() > ctx_.config.max_send_queue_bytes) {
      ctx_.metrics.reject(Rejection::kSlowReader);
      ctx_.log.log(LogLevel::kWarn, "slow_reader", {{"peer", peer_hex(id_)}, {"ip", ticket_.ip()}});
      close(close_code::kPolicy, "send queue full: read faster");
      return;
    }
    queued_bytes_ += message->size();
    queue_.push_back(std::move(message));
    if (!writing_) do_write();
  }

  uint64_t queued_bytes() const override { return queued_bytes_; }

  void close(uint16_t code, const std::string& reason) override {
    if (closing_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!writing_) do_close();
  }

  void drop() override {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);  // the pending read fails: on_read()
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;  // handshake failed: nothing registered yet
    if (ctx_.config.access_log) log_websocket_accepted(ctx_, ticket_.ip(), upgrade_start_);
    connected_ = true;
    id_ = ctx_.hub.connect(this->weak_from_this(), ConnectionInfo{ticket_.ip(), origin_},
                           ctx_.now_ms());
    if (ctx_.shutting_down) close(close_code::kGoingAway, "server shutting down");
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&TlsWebSocketSession::on_read,
                                                      this->shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec) {
      if (ec == websocket::error::message_too_big) ctx_.metrics.reject(Rejection::kMessageTooBig);
      connected_ = false;
      ctx_.hub.disconnect(id_);
      return;
    }
    const auto data = buffer_.cdata();
    if (ws_.got_text()) {
      ctx_.hub.receive_text(id_, ctx_.now_ms());
    } else {
      ctx_.hub.receive(id_, ByteView(static_cast<const uint8_t*>(data.data()), data.size()),
                       ctx_.now_ms());
    }
    // An idle connection holds no read buffer: signaling messages are rare and small, so one
    // allocation per message costs less than keeping kilobytes for each of 10,000 peers.
    buffer_.consume(buffer_.size());
    buffer_.shrink_to_fit();
    do_read();
  }

  void do_write() {
    writing_ = true;
    ws_.async_write(
        net::buffer(*queue_[head_]),
        beast::bind_front_handler(&TlsWebSocketSession::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    writing_ = false;
    if (ec) return;  // the read side sees the failure and disconnects
    queued_bytes_ -= queue_[head_]->size();
    queue_[head_++].reset();
    if (head_ == queue_.size()) {  // drained: start over, keeping no capacity
      queue_ = {};
      head_ = 0;
    }
    if (head_ < queue_.size()) {
      do_write();
    } else if (closing_) {
      do_close();
    }
  }

  void do_close() {
    queue_ = {};
    head_ = 0;
    queued_bytes_ = 0;
    ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code) {});
  }

  websocket::stream<TlsStream> ws_;
  ServerContext& ctx_;
  ConnectionTicket ticket_;
  beast::flat_buffer buffer_;
  std::string origin_;
  PeerId id_{};
  // A vector and a read index, not a deque: an idle session then holds no queue memory.
  std::vector<std::shared_ptr<const std::vector<uint8_t>>> queue_;
  size_t head_ = 0;
  uint64_t queued_bytes_ = 0;
  websocket::close_reason close_reason_;
  Clock::time_point upgrade_start_;  // with --access-log only
  bool writing_ = false;
  bool closing_ = false;
  bool connected_ = false;
};

// Answers a plain upgrade request with Beast, which checks it and computes
// Sec-WebSocket-Accept, then hands the bare socket to the lean plain WebSocket session.
// RFC 6455 has the client wait for the 101 before sending frames, so Beast has read none.
class PlainUpgrade : public std::enable_shared_from_this<PlainUpgrade> {
 public:
  PlainUpgrade(PlainStream&& stream, beast::flat_buffer buffer, ServerContext& ctx,
               ConnectionTicket ticket)
      : ws_(std::move(stream)), buffer_(std::move(buffer)), ctx_(ctx), ticket_(std::move(ticket)) {}

  void run(HttpRequest request) {
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(beast::http::field::server, "p2pcdn-server");
    }));
    origin_ = std::string(request[beast::http::field::origin]);
    if (ctx_.config.access_log) start_ = Clock::now();
    // The 101 is written under the HTTP timeout HttpSession set on the stream.
    ws_.async_accept(request,
                     beast::bind_front_handler(&PlainUpgrade::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;  // Beast has answered a bad request with an HTTP error
    if (ctx_.config.access_log) log_websocket_accepted(ctx_, ticket_.ip(), start_);
    const auto early = buffer_.cdata();
    const auto* early_data = static_cast<const uint8_t*>(early.data());
    start_plain_websocket(ws_.next_layer().release_socket(), ctx_, std::move(ticket_),
                          std::move(origin_),
                          std::vector<uint8_t>(early_data, early_data + early.size()));
  }

  websocket::stream<PlainStream> ws_;
  beast::flat_buffer buffer_;  // what followed the request in the HTTP read, if anything
  ServerContext& ctx_;
  ConnectionTicket ticket_;
  std::string origin_;
  Clock::time_point start_;  // with --access-log only
};

// What the access log says of the request being answered; filled only with --access-log.
struct AccessRecord {
  std::string method;
  std::string path;  // without the query
  Clock::time_point start;
};

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, beast::flat_buffer buffer, ServerContext& ctx,
              ConnectionTicket ticket)
      : stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        ctx_(ctx),
        ticket_(std::move(ticket)) {}

  void run() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(http_timeout());
      stream_.async_handshake(
          net::ssl::stream_base::server, buffer_.data(),
          beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
    } else {
      do_read();
    }
  }

 private:
  std::chrono::milliseconds http_timeout() const {
    return std::chrono::milliseconds(ctx_.config.http_timeout_ms);
  }

  void on_handshake(beast::error_code ec, size_t used) {
    if (ec) return;
    buffer_.consume(used);
    do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(kMaxHttpHeader);
    parser_->body_limit(kMaxHttpBody);
    // The whole request, headers and body, must arrive within one timeout: a client that
    // dribbles it (slow loris) is cut however steadily it sends.
    beast::get_lowest_layer(stream_).expires_after(http_timeout());
    beast::http::async_read(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == beast::http::error::end_of_stream) return shutdown();
    if (ec) return;
    HttpRequest request = parser_->release();
    if (websocket::is_upgrade(request)) {
      if (request.target() != "/signal") return;  // nothing else upgrades
      if constexpr (std::is_same_v<Stream, TlsStream>) {
        std::make_shared<TlsWebSocketSession>(std::move(stream_), ctx_, std::move(ticket_))
            ->run(std::move(request));
      } else {
        std::make_shared<PlainUpgrade>(std::move(stream_), std::move(buffer_), ctx_,
                                       std::move(ticket_))
            ->run(std::move(request));
      }
      return;
    }
    keep_alive_ = request.keep_alive() && !ctx_.shutting_down;
    if (ctx_.config.access_log) start_access_record(request);
    response_.emplace(answer_http(request, keep_alive_, ctx_.config, ctx_.metrics, status_));
    bytes_sent_ = 0;
    write_more();
  }

  void start_access_record(const HttpRequest& request) {
    const std::string_view target = request.target();
    access_.method = std::string(request.method_string());
    access_.path = std::string(target.substr(0, target.find('?')));
    access_.start = Clock::now();
  }

  // Also after a failed write: the line then shows how much of the body got out.
  void log_access() const {
    if (!ctx_.config.access_log) return;
    ctx_.log.access({{"ip", ticket_.ip()},
                     {"method", access_.method},
                     {"path", access_.path},
                     {"status", std::to_string(static_cast<unsigned>(status_))},
                     {"bytes", std::to_string(bytes_sent_)},
                     {"ms", milliseconds_since(access_.start)}});
  }

  // Writes the response a piece at a time (what beast::async_write does inside), re-arming
  // the timeout before each piece. A piece waits only while the socket's send buffer is full,
  // so a client that keeps reading, however slowly, gets a body of any size, and one that
  // stops reading is cut a timeout after the buffer filled.
  void write_more() {
    if (response_->is_done()) return on_response_sent();
    beast::error_code ec;
    const auto buffers = response_->prepare(ec);
    // The file failed to read: the client sees a short body and the close.
    if (ec) return log_access();
    beast::get_lowest_layer(stream_).expires_after(http_timeout());
    stream_.async_write_some(
        buffers, beast::bind_front_handler(&HttpSession::on_write_some, this->shared_from_this()));
  }

  void on_write_some(beast::error_code ec, size_t written) {
    bytes_sent_ += written;
    if (ec) return log_access();  // a timeout closed the socket, or the client went away
    response_->consume(written);
    write_more();
  }

  void on_response_sent() {
    log_access();
    response_.reset();  // closes the file now, not when the next request is answered
    if (!keep_alive_) return shutdown();
    do_read();
  }

  void shutdown() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(Socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  ServerContext& ctx_;
  ConnectionTicket ticket_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::optional<beast::http::message_generator> response_;  // while it is being written
  beast::http::status status_{};                            // of response_
  uint64_t bytes_sent_ = 0;                                 // of response_, head included
  AccessRecord access_;
  bool keep_alive_ = false;
};

// Looks at the first bytes: a TLS ClientHello goes to TLS (if configured), anything else to plain
// HTTP.
class DetectSession : public std::enable_shared_from_this<DetectSession> {
 public:
  DetectSession(Socket socket, ServerContext& ctx, ConnectionTicket ticket)
      : stream_(std::move(socket)), ctx_(ctx), ticket_(std::move(ticket)) {}

  void run() {
    stream_.expires_after(std::chrono::milliseconds(ctx_.config.http_timeout_ms));
    beast::async_detect_ssl(
        stream_, buffer_, beast::bind_front_handler(&DetectSession::on_detect, shared_from_this()));
  }

 private:
  void on_detect(beast::error_code ec, bool tls) {
    if (ec) return;
    if (tls) {
      if (ctx_.tls == nullptr) return;  // no certificate: drop TLS attempts
      std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(stream_), *ctx_.tls),
                                               std::move(buffer_), ctx_, std::move(ticket_))
          ->run();
      return;
    }
    std::make_shared<HttpSession<PlainStream>>(std::move(stream_), std::move(buffer_), ctx_,
                                               std::move(ticket_))
        ->run();
  }

  PlainStream stream_;
  ServerContext& ctx_;
  ConnectionTicket ticket_;
  beast::flat_buffer buffer_;
};

}  // namespace

void start_session(Socket socket, ServerContext& context, ConnectionTicket ticket) {
  std::make_shared<DetectSession>(std::move(socket), context, std::move(ticket))->run();
}

}  // namespace p2pcdn::server
