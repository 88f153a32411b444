#include "plain_websocket_session.hpp"

#include <array>
#include <boost/asio/write.hpp>
#include <memory>

#include "ws_frame.hpp"
#include "ws_frame_reader.hpp"
#include "ws_send_queue.hpp"

namespace p2pcdn::server {
namespace {

namespace net = boost::asio;
using boost::system::error_code;

// Reads of a full buffer in a row before the connection waits its turn again, so that one
// client streaming data cannot starve the others.
constexpr int kReadsPerTurn = 4;

class PlainWebSocketSession final : public PeerLink,
                                    public std::enable_shared_from_this<PlainWebSocketSession> {
 public:
  PlainWebSocketSession(Socket socket, ServerContext& ctx, ConnectionTicket ticket)
      : socket_(std::move(socket)),
        ctx_(ctx),
        ticket_(std::move(ticket)),
        reader_(ctx.config.max_message_size) {}

  void start(std::string origin, std::vector<uint8_t> early_bytes);
  void send(std::shared_ptr<const std::vector<uint8_t>> message) override;
  uint64_t queued_bytes() const override { return queue_ ? queue_->queued_bytes() : 0; }
  void close(uint16_t code, const std::string& reason) override;
  void drop() override;

 private:
  class FrameEvents;

  void wait_readable();
  void on_readable(error_code ec);
  void consume(uint8_t* data, size_t size);
  void on_message(bool text, ByteView payload);
  void on_ping(ByteView payload);
  void on_client_close(uint16_t code, std::string_view reason);
  void fail(uint16_t code);
  bool has_room(uint64_t bytes);
  void queue_close(uint16_t code, std::string_view reason);
  void transmit(std::shared_ptr<const std::vector<uint8_t>> bytes, bool whole_frame);
  void write_next();
  void on_written(error_code ec);
  void on_drained();
  void finish();

  Socket socket_;
  ServerContext& ctx_;
  ConnectionTicket ticket_;
  WsFrameReader reader_;
  std::unique_ptr<WsSendQueue> queue_;  // only while frames wait or are being written
  PeerId id_{};
  bool writing_ = false;
  bool close_queued_ = false;    // our close frame is queued or out: nothing follows it
  bool close_sent_ = false;      // ... and written
  bool close_received_ = false;  // the client's close frame came
  bool finished_ = false;        // the socket is closed and the hub told
};

// Hands what the frame reader finds to the session, which need not carry a second vtable.
class PlainWebSocketSession::FrameEvents final : public WsFrameHandler {
 public:
  explicit FrameEvents(PlainWebSocketSession& session) : session_(session) {}
  void on_message(bool text, ByteView payload) override { session_.on_message(text, payload); }
  void on_ping(ByteView payload) override { session_.on_ping(payload); }
  void on_close(uint16_t code, std::string_view reason) override {
    session_.on_client_close(code, reason);
  }

 private:
  PlainWebSocketSession& session_;
};

void PlainWebSocketSession::start(std::string origin, std::vector<uint8_t> early_bytes) {
  error_code ec;
  // Reads are tried directly once async_wait reports data; they must never block.
  socket_.non_blocking(true, ec);
  id_ = ctx_.hub.connect(weak_from_this(), ConnectionInfo{ticket_.ip(), std::move(origin)},
                         ctx_.now_ms());
  if (ctx_.shutting_down) close(close_code::kGoingAway, "server shutting down");
  if (!early_bytes.empty()) consume(early_bytes.data(), early_bytes.size());
  wait_readable();
}

void PlainWebSocketSession::wait_readable() {
  // No buffer and a small operation while the peer is idle, which is most of the time.
  socket_.async_wait(Socket::wait_read,
                     [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
}

void PlainWebSocketSession::on_readable(error_code ec) {
  if (finished_) return;
  if (ec) return finish();
  std::vector<uint8_t>& buffer = ctx_.receive_buffer;
  for (int reads = 0; reads < kReadsPerTurn; ++reads) {
    const size_t n = socket_.read_some(net::buffer(buffer), ec);
    if (ec == net::error::would_block) break;
    if (ec) return finish();  // end of stream or reset: the client is gone
    consume(buffer.data(), n);
    if (finished_) return;
    // Most likely drained; if not, async_wait re-arms the descriptor and fires at once.
    if (n < buffer.size()) break;
  }
  wait_readable();
}

void PlainWebSocketSession::consume(uint8_t* data, size_t size) {
  FrameEvents events(*this);
  if (const uint16_t error = reader_.feed(data, size, events)) fail(error);
}

void PlainWebSocketSession::on_message(bool text, ByteView payload) {
  if (finished_) return;
  if (text) {
    ctx_.hub.receive_text(id_, ctx_.now_ms());
  } else {
    ctx_.hub.receive(id_, payload, ctx_.now_ms());
  }
}

void PlainWebSocketSession::on_ping(ByteView payload) {
  if (close_queued_ || !has_room(payload.size)) return;
  transmit(std::make_shared<const std::vector<uint8_t>>(ws_frame(ws_opcode::kPong, payload)), true);
}

void PlainWebSocketSession::on_client_close(uint16_t code, std::string_view reason) {
  close_received_ = true;
  if (close_sent_) return finish();  // it answers ours: the handshake is complete
  if (close_queued_) return;         // ours goes out after what is queued, then we finish
  // The client is leaving: what it has not been sent yet is dropped, its close echoed.
  if (queue_) queue_->drop_unwritten();
  queue_close(code, reason);
}

// The stream broke a rule: RFC 6455 says to fail the connection, with the close frame first.
void PlainWebSocketSession::fail(uint16_t code) {
  if (code == close_code::kTooBig) ctx_.metrics.reject(Rejection::kMessageTooBig);
  if (close_queued_) return;
  if (queue_) queue_->drop_unwritten();
  queue_close(code, code == close_code::kTooBig ? "message too big" : "protocol error");
}

void PlainWebSocketSession::send(std::shared_ptr<const std::vector<uint8_t>> message) {
  if (close_queued_ || finished_ || !has_room(message->size())) return;
  transmit(std::move(message), false);
}

void PlainWebSocketSession::close(uint16_t code, const std::string& reason) {
  if (close_queued_ || finished_) return;
  queue_close(code, reason);
}

void PlainWebSocketSession::drop() {
  // The pending wait then completes with an error, and on_readable() finishes the session:
  // the hub hears of it later, not while it is sweeping.
  error_code ec;
  socket_.close(ec);
}

// A peer that does not read is closed rather than allowed to grow the server's memory.
bool PlainWebSocketSession::has_room(uint64_t bytes) {
  if (queued_bytes() + bytes <= ctx_.config.max_send_queue_bytes) return true;
  ctx_.metrics.reject(Rejection::kSlowReader);
  ctx_.log.log(LogLevel::kWarn, "slow_reader", {{"peer", peer_hex(id_)}, {"ip", ticket_.ip()}});
  close(close_code::kPolicy, "send queue full: read faster");
  return false;
}

void PlainWebSocketSession::queue_close(uint16_t code, std::string_view reason) {
  close_queued_ = true;
  transmit(std::make_shared<const std::vector<uint8_t>>(ws_close_frame(code, reason)), true);
}

// Sends a frame: at once when nothing waits, which for a mostly idle peer is nearly always
// (no queue, no pending operation), else after what is queued.
void PlainWebSocketSession::transmit(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                     bool whole_frame) {
  size_t written = 0;
  if (!queue_) {
    uint8_t header[kMaxServerFrameHeader];
    const size_t header_size =
        whole_frame ? 0 : write_ws_frame_header(header, ws_opcode::kBinary, bytes->size());
    const std::array<net::const_buffer, 2> frame{net::buffer(header, header_size),
                                                 net::buffer(*bytes)};
    error_code ec;
    written = socket_.write_some(frame, ec);  // non-blocking: takes what the socket has room for
    if (ec) written = 0;  // would_block, or an error the queued write will report
    if (written == header_size + bytes->size()) return on_drained();
    queue_ = std::make_unique<WsSendQueue>();
  }
  queue_->push(std::move(bytes), whole_frame);
  if (written != 0) queue_->skip_written(written);
  if (!writing_) write_next();
}

void PlainWebSocketSession::write_next() {
  writing_ = true;
  net::async_write(socket_, queue_->next_batch(),
                   [self = shared_from_this()](error_code ec, size_t) { self->on_written(ec); });
}

void PlainWebSocketSession::on_written(error_code ec) {
  writing_ = false;
  if (finished_) return;
  if (ec) return finish();  // a failed write says the client is gone, maybe before a read does
  queue_->pop_batch();
  if (!queue_->empty()) return write_next();
  queue_.reset();  // drained: an idle connection keeps no queue
  on_drained();
}

// Everything queued is out. Reached from a hub call only for a close the hub asked for, and
// never finishes the session then: close_received_ implies close_queued_, so the hub's
// close() returned early. The hub is thus not told of a disconnect while it iterates.
void PlainWebSocketSession::on_drained() {
  if (!close_queued_) return;
  close_sent_ = true;
  // The server closes TCP first once both close frames have passed (RFC 6455 section 7.1.1).
  if (close_received_) return finish();
  if (reader_.failed()) {
    // No close frame will come back from a broken stream. Our FIN follows the close frame;
    // reading on until the client's FIN keeps unread data from turning our close into a reset.
    error_code ec;
    socket_.shutdown(Socket::shutdown_send, ec);
  }
  // Otherwise the client's close frame is awaited; the hub's sweep drops a client that
  // never sends it.
}

void PlainWebSocketSession::finish() {
  if (finished_) return;
  finished_ = true;
  // Pending operations complete with an error and release the session; a write in flight
  // keeps its queue until then.
  error_code ec;
  socket_.close(ec);
  ctx_.hub.disconnect(id_);
}

}  // namespace

void start_plain_websocket(Socket socket, ServerContext& context, ConnectionTicket ticket,
                           std::string origin, std::vector<uint8_t> early_bytes) {
  std::make_shared<PlainWebSocketSession>(std::move(socket), context, std::move(ticket))
      ->start(std::move(origin), std::move(early_bytes));
}

}  // namespace p2pcdn::server
