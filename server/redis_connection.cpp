#include "redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/ioctl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <optional>

namespace p2pcdn::server {

namespace net = boost::asio;

namespace {

// hiredis reads at most 16 KiB per call; a burst of replies takes several calls, all made
// before the thread moves on, up to this many (then the rest is posted, to stay fair).
constexpr int kReadsPerTurn = 64;

bool bytes_waiting(int fd) {
  int n = 0;
  return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

}  // namespace

// Lives as long as hiredis's context (hiredis's hooks hold a raw pointer to it), and as long
// as any wait on the socket: keep_alive holds it from connect until hiredis's cleanup hook.
struct RedisConnection::State : std::enable_shared_from_this<State> {
  explicit State(net::io_context& io_context) : io(io_context), resolver(io_context) {}

  net::io_context& io;
  net::ip::tcp::resolver resolver;
  std::optional<net::posix::stream_descriptor> socket;
  redisAsyncContext* context = nullptr;  // null once hiredis has cleaned up
  std::shared_ptr<State> keep_alive;
  std::function<void()> on_up;
  std::function<void(const std::string&)> on_down;
  std::function<void()> on_subscribed;
  std::function<void(std::string_view)> on_message;
  bool closed = false;         // close() called: nothing more is reported
  bool connected = false;      // hiredis said so
  bool want_read = false;      // hiredis's addRead/delRead
  bool want_write = false;     // hiredis's addWrite/delWrite
  bool read_waiting = false;   // an async_wait(read) or a posted read is pending
  bool write_waiting = false;  // an async_wait(write) or a posted write is pending

  // Called at most once, and never from inside hiredis: the owner may free the connection.
  void report_down(const std::string& why) {
    if (closed || !on_down) return;
    auto down = std::move(on_down);
    on_down = nullptr;
    on_up = nullptr;
    net::post(io, [down = std::move(down), why] { down(why); });
  }

  void wait_read() {
    if (read_waiting || context == nullptr || !want_read) return;
    read_waiting = true;
    socket->async_wait(net::posix::stream_descriptor::wait_read,
                       [self = shared_from_this()](boost::system::error_code ec) {
                         self->read_waiting = false;
                         if (!ec) self->on_readable();
                       });
  }

  // Asio registers descriptors edge-triggered and does not remember readiness for plain
  // waits, so every turn drains the socket before waiting again.
  void on_readable() {
    for (int i = 0; i < kReadsPerTurn; ++i) {
      if (context == nullptr || !want_read) return;
      const int fd = context->c.fd;
      redisAsyncHandleRead(context);  // may free the context (cleanup hook)
      if (context == nullptr || !bytes_waiting(fd)) {
        wait_read();
        return;
      }
    }
    read_waiting = true;
    net::post(io, [self = shared_from_this()] {
      self->read_waiting = false;
      self->on_readable();
    });
  }

  // Before the connection is up, the socket's first writability says connect() finished
  // (hiredis would take a socket still connecting for connected). After that, a write is
  // tried at once and waits for writability only when the kernel's buffer is full, since a
  // readiness edge seen while no wait was pending is not remembered.
  void wait_write() {
    if (write_waiting || context == nullptr || !want_write) return;
    write_waiting = true;
    if (connected) {
      net::post(io, [self = shared_from_this()] {
        self->write_waiting = false;
        self->on_writable();
      });
    } else {
      wait_writable();
    }
  }

  void wait_writable() {
    socket->async_wait(net::posix::stream_descriptor::wait_write,
                       [self = shared_from_this()](boost::system::error_code ec) {
                         self->write_waiting = false;
                         if (!ec) self->on_writable();
                       });
  }

  void on_writable() {
    if (context == nullptr || !want_write) return;
    redisAsyncHandleWrite(context);  // may report the connection up, or free the context
    if (context == nullptr || !want_write || write_waiting) return;
    // Bytes left: the kernel's buffer is full, and its next writability is an edge to wait for.
    write_waiting = true;
    wait_writable();
  }

  static State* of(void* privdata) { return static_cast<State*>(privdata); }

  static void add_read(void* privdata) {
    State* s = of(privdata);
    s->want_read = true;
    s->wait_read();
  }
  static void del_read(void* privdata) { of(privdata)->want_read = false; }
  static void add_write(void* privdata) {
    State* s = of(privdata);
    s->want_write = true;
    s->wait_write();
  }
  static void del_write(void* privdata) { of(privdata)->want_write = false; }
  // hiredis is freeing the context (and then closes the socket itself).
  static void cleanup(void* privdata) {
    State* s = of(privdata);
    s->context = nullptr;
    s->want_read = s->want_write = false;
    if (s->socket) {
      boost::system::error_code ec;
      s->socket->cancel(ec);
      s->socket->release();  // the descriptor is hiredis's to close
    }
    // The disconnect callback still comes, and so may pending waits' handlers: let go later.
    net::post(s->io, [self = std::move(s->keep_alive)] {});
  }

  static void connect_done(const redisAsyncContext* context, int status) {
    State* s = static_cast<State*>(context->data);
    if (status != REDIS_OK) {
      s->report_down(context->errstr);  // hiredis frees the context next
      return;
    }
    s->connected = true;
    if (s->closed || !s->on_up) return;
    // Posted: the owner may start commands or close, which hiredis does not expect from here.
    net::post(s->io, [self = s->shared_from_this()] {
      if (!self->closed && self->connected && self->context != nullptr && self->on_up) {
        auto up = std::move(self->on_up);
        self->on_up = nullptr;
        up();
      }
    });
  }

  static void disconnected(const redisAsyncContext* context, int status) {
    State* s = static_cast<State*>(context->data);
    s->connected = false;
    s->report_down(status == REDIS_OK ? std::string("connection closed")
                                      : std::string(context->errstr));
  }

  static void subscription(redisAsyncContext*, void* r, void* privdata) {
    State* s = of(privdata);
    const auto* reply = static_cast<const redisReply*>(r);
    if (reply == nullptr || s->closed || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
      return;
    const redisReply* kind = reply->element[0];
    const std::string_view what(kind->str, kind->len);
    if (what == "message") {
      const redisReply* payload = reply->element[2];
      if (payload->type == REDIS_REPLY_STRING && s->on_message)
        s->on_message(std::string_view(payload->str, payload->len));
    } else if (what == "subscribe" && s->on_subscribed) {
      auto subscribed = std::move(s->on_subscribed);
      s->on_subscribed = nullptr;
      subscribed();
    }
  }

  static void reply_to_function(redisAsyncContext*, void* reply, void* privdata) {
    std::unique_ptr<ReplyFn> done(static_cast<ReplyFn*>(privdata));
    (*done)(static_cast<const redisReply*>(reply));
  }

  void connect(const std::string& ip, uint16_t port) {
    context = redisAsyncConnect(ip.c_str(), port);
    if (context == nullptr) {
      report_down("out of memory");
      return;
    }
    if (context->err) {
      const std::string why = context->errstr;
      redisAsyncFree(context);  // no hooks attached yet
      context = nullptr;
      report_down(why);
      return;
    }
    keep_alive = shared_from_this();
    socket.emplace(io, context->c.fd);
    context->data = this;
    context->ev.data = this;
    context->ev.addRead = &State::add_read;
    context->ev.delRead = &State::del_read;
    context->ev.addWrite = &State::add_write;
    context->ev.delWrite = &State::del_write;
    context->ev.cleanup = &State::cleanup;
    redisAsyncSetDisconnectCallback(context, &State::disconnected);
    redisAsyncSetConnectCallback(context, &State::connect_done);  // asks for writability
  }
};

RedisConnection::RedisConnection(net::io_context& io) : state_(std::make_shared<State>(io)) {}

RedisConnection::~RedisConnection() {
  close();
}

void RedisConnection::open(const std::string& host, uint16_t port, std::function<void()> on_up,
                           std::function<void(const std::string& why)> on_down) {
  state_->on_up = std::move(on_up);
  state_->on_down = std::move(on_down);
  // hiredis resolves names with a blocking getaddrinfo: hand it an address Asio found.
  state_->resolver.async_resolve(
      host, std::to_string(port),
      [s = state_, host, port](boost::system::error_code ec,
                               net::ip::tcp::resolver::results_type results) {
        if (s->closed) return;
        if (ec || results.empty()) {
          s->report_down("cannot resolve " + host + ": " + ec.message());
          return;
        }
        s->connect(results.begin()->endpoint().address().to_string(), port);
      });
}

bool RedisConnection::is_open() const {
  return !state_->closed && state_->connected && state_->context != nullptr;
}

namespace {

bool send_command(redisAsyncContext* context, const std::vector<std::string_view>& args,
                  redisCallbackFn* fn, void* privdata) {
  constexpr size_t kInline = 16;
  const char* argv_inline[kInline];
  size_t lengths_inline[kInline];
  std::vector<const char*> argv_heap;
  std::vector<size_t> lengths_heap;
  const char** argv = argv_inline;
  size_t* lengths = lengths_inline;
  if (args.size() > kInline) {
    argv_heap.resize(args.size());
    lengths_heap.resize(args.size());
    argv = argv_heap.data();
    lengths = lengths_heap.data();
  }
  for (size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lengths[i] = args[i].size();
  }
  return redisAsyncCommandArgv(context, fn, privdata, static_cast<int>(args.size()), argv,
                               lengths) == REDIS_OK;
}

}  // namespace

bool RedisConnection::command(const std::vector<std::string_view>& args, ReplyFn done) {
  if (!is_open()) return false;
  if (!done) return send_command(state_->context, args, nullptr, nullptr);
  auto* fn = new ReplyFn(std::move(done));
  if (send_command(state_->context, args, &State::reply_to_function, fn)) return true;
  delete fn;
  return false;
}

bool RedisConnection::command(const std::vector<std::string_view>& args, RawReplyFn done,
                              void* privdata) {
  return is_open() && send_command(state_->context, args, done, privdata);
}

bool RedisConnection::subscribe(const std::string& channel, std::function<void()> on_subscribed,
                                std::function<void(std::string_view payload)> on_message) {
  if (!is_open()) return false;
  state_->on_subscribed = std::move(on_subscribed);
  state_->on_message = std::move(on_message);
  return send_command(state_->context, {"SUBSCRIBE", channel}, &State::subscription, state_.get());
}

void RedisConnection::close() {
  State& s = *state_;
  if (s.closed) return;
  s.closed = true;
  s.on_up = nullptr;
  s.on_down = nullptr;
  s.resolver.cancel();
  // Inside one of its own callbacks hiredis defers the free to when the callback returns.
  if (s.context != nullptr) redisAsyncFree(s.context);
}

}  // namespace p2pcdn::server
