// One connection to Redis through hiredis's asynchronous API, driven by the server's one
// Asio thread: hiredis's socket sits in an asio::posix::stream_descriptor and its read and
// write hooks become async waits, so no call ever blocks the thread. (Debian ships hiredis
// adapters for libev, libuv, glib… but none for Asio; this is one.)
//
// A connection is used once: when it fails or is lost, its owner makes a new one. Every
// command queued on it gets exactly one reply callback, with nullptr if the connection went
// away first; replies come in the order the commands were queued.
#pragma once
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace p2pcdn::server {

class RedisConnection {
 public:
  // A command's reply, or nullptr when the connection went away before it came.
  using ReplyFn = std::function<void(const redisReply* reply)>;
  // hiredis's own callback type: no allocation per command.
  using RawReplyFn = void (*)(redisAsyncContext* context, void* reply, void* privdata);

  explicit RedisConnection(boost::asio::io_context& io);
  // Frees the connection; callbacks of commands still pending get nullptr.
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Resolves `host` (asynchronously), connects, and then calls `on_up`. `on_down` is called
  // once, later and never from inside a call of this class, if connecting fails or an open
  // connection is lost; never after close().
  void open(const std::string& host, uint16_t port, std::function<void()> on_up,
            std::function<void(const std::string& why)> on_down);
  bool is_open() const;

  // Queues a command; its arguments are binary-safe and copied. False (and no callback) when
  // the connection is not open.
  bool command(const std::vector<std::string_view>& args, ReplyFn done = {});
  bool command(const std::vector<std::string_view>& args, RawReplyFn done, void* privdata);

  // SUBSCRIBE: `on_subscribed` once Redis confirms, then `on_message(payload)` per message.
  bool subscribe(const std::string& channel, std::function<void()> on_subscribed,
                 std::function<void(std::string_view payload)> on_message);

  // Frees the connection now (pending callbacks get nullptr); on_down is not called.
  void close();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace p2pcdn::server
