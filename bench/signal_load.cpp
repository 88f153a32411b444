// Signaling load generator. Opens many WebSocket connections to p2pcdn-server (or, for
// comparison, to bittorrent-tracker's WebSocket tracker), measures the server's memory per
// idle connection, then relay throughput and latency between pairs of connections, and
// prints one JSON object. bench/signal_load.sh runs it against both servers.
//
// One io_context thread drives every connection: 10k connections need no 10k threads, and
// the load generator takes at most one of the machine's cores, as the server does (both
// servers run one thread). So that it costs less per relay than the server it measures,
// Beast only connects and does the handshake; frames are then written (one send per
// message, as a browser's) and read by hand, the sockets in an epoll set of its own.
// --swarm-size N puts the connections in swarms of N (pairs within a swarm); by default
// they are all in one.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON, for the tracker's JSON messages
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "p2pcdn/signal.hpp"

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxConnectsInFlight = 200;   // stays far below the listen backlog
constexpr uint32_t kFirstSource = 0x7f000002;  // 127.0.0.2
constexpr uint32_t kSourceCount = 249;         // 127.0.0.2 .. 127.0.0.250
constexpr auto kIdleSettle = std::chrono::seconds(2);
// After the relay window, relays still in flight may arrive for this long before the
// connections close; a slow server's backlog drains instead of failing the close handshakes.
constexpr auto kDrainTimeout = std::chrono::seconds(30);
constexpr auto kCloseTimeout = std::chrono::seconds(5);
constexpr uint32_t kHeartbeatTickMs = 100;
constexpr size_t kMaxLatencySamples = 20'000'000;  // 80 MB at most, far above any real run
constexpr const char* kSite = "https://bench.example";
// Each relay payload starts with the send time: "ts:" + 16 digits (microseconds) + ";".
constexpr std::string_view kStampPrefix = "ts:";
constexpr size_t kStampDigits = 16;
constexpr size_t kStampSize = kStampPrefix.size() + kStampDigits + 1;

struct Options {
  std::string protocol = "p2pcdn";
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  size_t connections = 10000;
  double relay_seconds = 10;
  size_t pairs = 1000;
  size_t window = 8;  // relays each sender keeps in flight
  // Peers per swarm: connection i is in swarm i / swarm_size, and a pair's two ends are in
  // the same swarm. 0: every connection in one swarm.
  size_t swarm_size = 0;
  size_t payload_bytes = 500;
  double max_seconds = 300;
  double connect_timeout_seconds = 60;
  int server_pid = 0;
};

// ---------------------------------------------------------------------------------------
// Measurements from /proc and the clock.

const Clock::time_point kEpoch = Clock::now();

uint64_t now_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - kEpoch).count());
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// VmRSS in KiB, or -1 when there is no such process.
long read_rss_kib(int pid) {
  if (pid <= 0) return -1;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// User + system CPU seconds of a process (fields 14 and 15 of /proc/PID/stat), or -1.
double read_cpu_seconds(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  unsigned long long user = 0, system = 0;
  if (!(fields >> user >> system)) return -1;
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds the whole machine has spent busy (every state of /proc/stat's "cpu" line but
// idle and iowait), or -1: with the server's and our own, what the rest of the machine took.
double read_machine_busy_seconds() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu") {
    return -1;
  }
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The 1-minute load average: other work on the machine skews every figure of a run.
double read_load_average() {
  std::ifstream loadavg("/proc/loadavg");
  double load = -1;
  loadavg >> load;
  return load;
}

std::string make_payload(size_t bytes) {
  std::string payload(kStampPrefix);
  payload.append(kStampDigits, '0');
  payload.push_back(';');
  payload.resize(std::max(bytes, kStampSize), 'x');
  return payload;
}

void write_stamp(std::string& message, size_t offset, uint64_t us) {
  char* digits = message.data() + offset + kStampPrefix.size();
  for (size_t i = kStampDigits; i-- > 0; us /= 10) digits[i] = static_cast<char>('0' + us % 10);
}

std::optional<uint64_t> read_stamp(std::string_view payload) {
  if (payload.size() < kStampSize || payload.substr(0, kStampPrefix.size()) != kStampPrefix) {
    return std::nullopt;
  }
  uint64_t us = 0;
  for (size_t i = 0; i < kStampDigits; ++i) {
    const char c = payload[kStampPrefix.size() + i];
    if (c < '0' || c > '9') return std::nullopt;
    us = us * 10 + static_cast<uint64_t>(c - '0');
  }
  return us;
}

// ---------------------------------------------------------------------------------------
// The two protocols, behind one interface so the phases are the same code for both.

struct Incoming {
  enum Kind { kOther, kJoined, kRelay, kError } kind = kOther;
  std::string peer_id;  // kJoined: the id the server knows us by
  std::string payload;  // kRelay
  std::string text;     // kError
  uint32_t heartbeat_ms = 0;
};

class Protocol {
 public:
  explicit Protocol(size_t swarm_size) : swarm_size_(swarm_size) {}
  virtual ~Protocol() = default;
  // The swarm of connection `index` (0 when every connection is in one swarm).
  size_t swarm_of(size_t index) const { return swarm_size_ == 0 ? 0 : index / swarm_size_; }
  virtual std::string name() const = 0;
  virtual bool binary() const = 0;
  virtual std::string target() const = 0;
  virtual std::string join(size_t index) const = 0;
  // The id a client picks for itself; empty when the server assigns one (in WELCOME).
  virtual std::string own_peer_id(size_t index) const = 0;
  // Sent once joined (p2pcdn: the ANNOUNCE of one resource).
  virtual std::vector<std::string> after_join(size_t index) const = 0;
  // A relay from connection `from` (peer from_id) to the peer to_id, carrying `payload`.
  virtual std::string relay(size_t from, const std::string& from_id, const std::string& to_id,
                            const std::string& payload) const = 0;
  // What keeps a joined connection alive (sent about twice per interval); nullopt: none.
  virtual std::optional<std::string> heartbeat() const = 0;
  virtual Incoming parse(std::string_view message) const = 0;

 private:
  size_t swarm_size_;
};

std::string as_string(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::string encode(const p2pcdn::SignalMessage& message) {
  auto bytes = p2pcdn::encode_signal(message);
  return bytes ? as_string(bytes.value()) : std::string();
}

class P2pcdnProtocol : public Protocol {
 public:
  using Protocol::Protocol;
  std::string name() const override { return "p2pcdn"; }
  bool binary() const override { return true; }
  std::string target() const override { return "/signal"; }

  // One swarm: the site's default swarm key (""); several: one key per swarm.
  std::string join(size_t index) const override {
    const size_t swarm = swarm_of(index);
    return encode(p2pcdn::Join{kSite, swarm == 0 ? "" : "s" + std::to_string(swarm), 0});
  }
  std::string own_peer_id(size_t) const override { return {}; }

  std::vector<std::string> after_join(size_t index) const override {
    // A few distinct resources, each announced by many peers, as on a real site.
    p2pcdn::ResourceId id{};
    id[0] = static_cast<uint8_t>(index % 100);
    return {encode(p2pcdn::Announce{{id}})};
  }

  std::string relay(size_t, const std::string&, const std::string& to_id,
                    const std::string& payload) const override {
    p2pcdn::Relay relay;
    std::copy(to_id.begin(), to_id.end(), relay.peer.begin());
    relay.kind = p2pcdn::RelayKind::kAnswer;
    relay.payload = payload;
    return encode(relay);
  }

  std::optional<std::string> heartbeat() const override {
    return encode(p2pcdn::Heartbeat{now_us() / 1000});
  }

  Incoming parse(std::string_view message) const override {
    auto decoded = p2pcdn::decode_signal(p2pcdn::ByteView::of(message));
    Incoming in;
    if (!decoded) {
      in.kind = Incoming::kError;
      in.text = "undecodable message from the server";
    } else if (auto* welcome = std::get_if<p2pcdn::Welcome>(&decoded.value())) {
      in.kind = Incoming::kJoined;
      in.peer_id.assign(welcome->peer_id.begin(), welcome->peer_id.end());
      in.heartbeat_ms = welcome->heartbeat_interval_ms;
    } else if (auto* relay = std::get_if<p2pcdn::Relay>(&decoded.value())) {
      in.kind = Incoming::kRelay;
      in.payload = std::move(relay->payload);
    } else if (auto* error = std::get_if<p2pcdn::SignalError>(&decoded.value())) {
      in.kind = Incoming::kError;
      in.text = "server error " + std::to_string(error->code) + ": " + error->message;
    }
    return in;
  }
};

// bittorrent-tracker's WebSocket protocol (lib/server/parse-websocket.js, server.js): JSON
// text messages; ids are 20-character "binary strings" (ASCII here, so JSON keeps them as is).
class TrackerProtocol : public Protocol {
 public:
  using Protocol::Protocol;
  std::string name() const override { return "tracker"; }
  bool binary() const override { return false; }
  std::string target() const override { return "/"; }

  std::string own_peer_id(size_t index) const override {
    char id[21];
    std::snprintf(id, sizeof id, "-BN0001-%012zu", index);
    return id;
  }

  // The join: the first announce of a client that wants no peers yet.
  std::string join(size_t index) const override {
    json::object announce{{"action", "announce"},
                          {"info_hash", info_hash(index)},
                          {"peer_id", own_peer_id(index)},
                          {"numwant", 0},
                          {"uploaded", 0},
                          {"downloaded", 0},
                          {"event", "started"},
                          {"offers", json::array()}};
    return json::serialize(announce);
  }

  std::vector<std::string> after_join(size_t) const override { return {}; }

  // The answer a peer sends back through the tracker (websocket-tracker.js), which the
  // tracker forwards to `to_peer_id`: the tracker's one relayed message.
  std::string relay(size_t from, const std::string& from_id, const std::string& to_id,
                    const std::string& payload) const override {
    char offer_id[21];
    std::snprintf(offer_id, sizeof offer_id, "offer-%014zu", from);
    json::object answer{{"action", "announce"},
                        {"info_hash", info_hash(from)},
                        {"peer_id", from_id},
                        {"to_peer_id", to_id},
                        {"answer", json::object{{"type", "answer"}, {"sdp", payload}}},
                        {"offer_id", offer_id}};
    return json::serialize(answer);
  }

  // A WebSocket tracker peer stays listed for 20 minutes without announcing again.
  std::optional<std::string> heartbeat() const override { return std::nullopt; }

  Incoming parse(std::string_view message) const override {
    Incoming in;
    json::error_code ec;
    json::value value = json::parse(message, ec);
    const json::object* object = ec ? nullptr : value.if_object();
    if (object == nullptr) {
      in.kind = Incoming::kError;
      in.text = "unparsable message from the tracker";
    } else if (const json::value* failure = object->if_contains("failure reason")) {
      in.kind = Incoming::kError;
      in.text = failure->is_string() ? std::string(failure->get_string()) : "failure";
    } else if (const json::value* sdp = answer_sdp(*object)) {
      in.kind = Incoming::kRelay;
      in.payload = std::string(sdp->get_string());
    } else if (object->contains("interval")) {
      in.kind = Incoming::kJoined;  // the announce response; our id is our own
    }
    return in;
  }

 private:
  static const json::value* answer_sdp(const json::object& object) {
    const json::value* answer = object.if_contains("answer");
    if (answer == nullptr || !answer->is_object()) return nullptr;
    const json::value* sdp = answer->get_object().if_contains("sdp");
    return sdp != nullptr && sdp->is_string() ? sdp : nullptr;
  }

  // 20 characters: "p2pcdn-bench-swarm-1" for the one-swarm shape (as before), else one
  // per swarm.
  std::string info_hash(size_t index) const {
    const size_t swarm = swarm_of(index);
    if (swarm == 0) return "p2pcdn-bench-swarm-1";
    char hash[40];  // swarm < 10^6 (--connections): 7 digits
    std::snprintf(hash, sizeof hash, "p2pcdn-bench-%07zu", swarm);
    return hash;
  }
};

// ---------------------------------------------------------------------------------------
// Connections. Each reports to its Listener; none outlives the io_context.

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void on_joined(size_t index, const Incoming& welcome) = 0;
  // joined: the connection had joined, so it no longer counts as a connect in progress.
  virtual void on_failed(size_t index, const std::string& kind, bool joined) = 0;
  virtual void on_relay(size_t index, std::string_view payload) = 0;
  virtual void on_server_error(size_t index, const std::string& text) = 0;
  virtual void on_closed(size_t index) = 0;
};

class Connection;

// The generator's own epoll set for connections past their WebSocket handshake: each socket
// registered once, edge-triggered. Asio waits on the epoll descriptor as a whole, so a round
// of ready sockets costs one Asio operation; with an Asio (Beast) operation per socket read
// and write the generator spent more CPU per relay than p2pcdn-server did, and measured
// itself instead of the server (bench/README.md).
class Poller {
 public:
  explicit Poller(net::io_context& io) : epoll_(io, ::epoll_create1(EPOLL_CLOEXEC)) {}

  bool add(int fd, Connection* connection) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.ptr = connection;
    return ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &event) == 0;
  }

  void start() {
    epoll_.async_wait(net::posix::descriptor_base::wait_read, [this](beast::error_code ec) {
      if (ec) return;
      poll();
      start();
    });
  }

  void stop() {
    beast::error_code ec;
    epoll_.cancel(ec);
  }

 private:
  void poll();

  net::posix::stream_descriptor epoll_;
};

// Reads of every connection go through this one buffer, then are parsed in place.
std::array<uint8_t, 64 * 1024> g_read_buffer;

// One WebSocket client connection: Beast connects and does the handshake, then frames are
// read, masked and written by hand on the bare socket (RFC 6455), each message written at
// once as a browser's would be.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { kNew, kConnecting, kJoining, kJoined, kClosing, kDone };

  Connection(net::io_context& io, Poller& poller, const Protocol& protocol, Listener& listener,
             size_t index)
      : io_(io),
        poller_(poller),
        ws_(std::make_unique<Handshake>(io)),
        protocol_(protocol),
        listener_(listener),
        index_(index),
        random_(static_cast<uint32_t>(index) * 2654435761u + 1) {}

  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  State state() const { return state_; }
  const std::string& peer_id() const { return peer_id_; }

  // Binds one of 249 source addresses before connecting: from 127.0.0.1 alone, 10k
  // connections plus the TIME_WAIT ports of the previous run would exhaust the ~28k
  // ephemeral ports towards the server's one address and port.
  void start(const tcp::endpoint& server, const std::string& host) {
    state_ = State::kConnecting;
    auto& socket = beast::get_lowest_layer(*ws_).socket();
    beast::error_code ec;
    socket.open(tcp::v4(), ec);
    // Pick the port at connect() (per 4-tuple), not at bind() (per address).
    const int on = 1;
    if (!ec)
      setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    const net::ip::address_v4 source(kFirstSource + static_cast<uint32_t>(index_ % kSourceCount));
    if (!ec) socket.bind(tcp::endpoint(source, 0), ec);
    if (ec) return fail("bind");
    beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(*ws_).async_connect(
        server,
        [self = shared_from_this(), host](beast::error_code e) { self->on_connect(e, host); });
  }

  // False if the connection is not open for messages (closing, or failed).
  bool send(std::string_view message) {
    if (state_ != State::kJoining && state_ != State::kJoined) return false;
    write_frame(protocol_.binary() ? kOpBinary : kOpText, message);
    return true;
  }

  // Closes with a close frame after what is queued, then waits for the server's.
  void close() {
    if (state_ == State::kDone || state_ == State::kClosing) return;
    if (state_ != State::kJoined && state_ != State::kJoining) return abort();
    state_ = State::kClosing;
    const uint8_t normal[2] = {0x03, 0xe8};  // 1000
    write_frame(kOpClose, std::string_view(reinterpret_cast<const char*>(normal), 2));
  }

  // Drops the connection without a close handshake (a timeout, or the deadline).
  void abort() {
    if (state_ == State::kDone) return;
    state_ = State::kDone;
    if (ws_) beast::get_lowest_layer(*ws_).close();
    if (fd_ >= 0) ::close(fd_);  // which also takes it out of the epoll set
    fd_ = -1;
  }

  // What the Poller saw on the socket.
  void on_events(uint32_t events) {
    if (fd_ < 0) return;
    if ((events & EPOLLOUT) != 0 && blocked_) flush();
    if (fd_ >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) on_readable();
  }

 private:
  using Handshake = websocket::stream<beast::tcp_stream>;
  static constexpr uint8_t kOpContinuation = 0, kOpText = 1, kOpBinary = 2, kOpClose = 8,
                           kOpPing = 9, kOpPong = 10;

  void on_connect(beast::error_code ec, const std::string& host) {
    if (state_ == State::kDone) return;
    if (ec) return fail("connect");
    // Browsers send WebSocket frames without Nagle's delay; so do we.
    beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay(true), ec);
    beast::get_lowest_layer(*ws_).expires_never();  // the WebSocket has its own timeouts
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    // As a page of the site it joins would: p2pcdn-server refuses a JOIN without Origin.
    ws_->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::origin, kSite); }));
    ws_->async_handshake(host, protocol_.target(),
                         beast::bind_front_handler(&Connection::on_handshake, shared_from_this()));
  }

  // The server says nothing after its 101 until the JOIN, so Beast has read no frame yet:
  // the bare socket takes over from here.
  void on_handshake(beast::error_code ec) {
    if (state_ == State::kDone) return;
    if (ec) return fail("handshake");
    fd_ = beast::get_lowest_layer(*ws_).socket().release(ec);
    // Not destroyed inside its own completion handler.
    net::post(io_, [self = shared_from_this()] { self->ws_.reset(); });
    if (ec || fd_ < 0) return fail("handshake");
    if (!poller_.add(fd_, this)) return fail("epoll");
    state_ = State::kJoining;
    send(protocol_.join(index_));
  }

  // ---- writing

  // Appends one masked frame (a fresh key each, as RFC 6455 asks of clients) and writes at
  // once unless earlier bytes still wait for room in the socket.
  void write_frame(uint8_t opcode, std::string_view payload) {
    uint8_t header[14];
    size_t size = 0;
    header[size++] = static_cast<uint8_t>(0x80 | opcode);
    if (payload.size() < 126) {
      header[size++] = static_cast<uint8_t>(0x80 | payload.size());
    } else if (payload.size() <= 0xffff) {
      header[size++] = 0x80 | 126;
      header[size++] = static_cast<uint8_t>(payload.size() >> 8);
      header[size++] = static_cast<uint8_t>(payload.size());
    } else {
      header[size++] = 0x80 | 127;
      for (int shift = 56; shift >= 0; shift -= 8)
        header[size++] = static_cast<uint8_t>(static_cast<uint64_t>(payload.size()) >> shift);
    }
    random_ ^= random_ << 13;  // xorshift32
    random_ ^= random_ >> 17;
    random_ ^= random_ << 5;
    uint8_t key[4];
    std::memcpy(key, &random_, 4);
    std::memcpy(header + size, key, 4);
    size += 4;
    const size_t at = out_.size();
    out_.resize(at + size + payload.size());
    char* frame = out_.data() + at;
    std::memcpy(frame, header, size);
    for (size_t i = 0; i < payload.size(); ++i)
      frame[size + i] = static_cast<char>(payload[i] ^ static_cast<char>(key[i & 3]));
    if (!blocked_) flush();
  }

  void flush() {
    while (out_sent_ < out_.size()) {
      const ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        blocked_ = true;  // EPOLLOUT says when there is room
        return;
      }
      if (n < 0) {  // the read side sees the failure
        out_.clear();
        out_sent_ = 0;
        return;
      }
      out_sent_ += static_cast<size_t>(n);
    }
    out_.clear();
    out_sent_ = 0;
    blocked_ = false;
  }

  // ---- reading

  // Edge-triggered: reads until the socket has nothing more (a read that does not fill the
  // buffer); data arriving later raises a new event.
  void on_readable() {
    for (;;) {
      const ssize_t n = ::recv(fd_, g_read_buffer.data(), g_read_buffer.size(), MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return on_read_error();
      consume(g_read_buffer.data(), static_cast<size_t>(n));
      if (fd_ < 0 || static_cast<size_t>(n) < g_read_buffer.size()) return;
    }
  }

  void consume(const uint8_t* data, size_t size) {
    if (!partial_.empty()) {  // a frame split between reads: rare, so copied
      partial_.append(reinterpret_cast<const char*>(data), size);
      std::string carried = std::move(partial_);
      partial_.clear();
      const size_t used = parse(reinterpret_cast<const uint8_t*>(carried.data()), carried.size());
      if (fd_ >= 0) partial_.assign(carried, used);
      return;
    }
    const size_t used = parse(data, size);
    if (fd_ >= 0) partial_.assign(reinterpret_cast<const char*>(data) + used, size - used);
  }

  // Handles every whole frame in [data, data + size); returns the bytes they took.
  size_t parse(const uint8_t* data, size_t size) {
    size_t at = 0;
    while (fd_ >= 0 && size - at >= 2) {
      const uint8_t first = data[at];
      const uint8_t second = data[at + 1];
      size_t header = 2;
      uint64_t length = second & 0x7f;
      if (length == 126) {
        if (size - at < 4) break;
        length = (uint64_t{data[at + 2]} << 8) | data[at + 3];
        header = 4;
      } else if (length == 127) {
        if (size - at < 10) break;
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | data[at + 2 + i];
        header = 10;
      }
      if ((second & 0x80) != 0 || length > p2pcdn::kDefaultMaxSignalMessage) {
        fail("bad frame from the server");  // servers never mask; nor send this much
        break;
      }
      if (size - at - header < length) break;
      const std::string_view payload(reinterpret_cast<const char*>(data + at + header),
                                     static_cast<size_t>(length));
      at += header + static_cast<size_t>(length);
      on_frame((first & 0x80) != 0, first & 0x0f, payload);
    }
    return at;
  }

  void on_frame(bool fin, uint8_t opcode, std::string_view payload) {
    if (opcode == kOpPing) {
      if (state_ == State::kJoining || state_ == State::kJoined) write_frame(kOpPong, payload);
    } else if (opcode == kOpClose) {
      if (state_ == State::kClosing) return finish_close();
      fail(state_ == State::kJoined ? "dropped" : "closed while joining");
    } else if (opcode == kOpText || opcode == kOpBinary) {
      if (fin) return handle(protocol_.parse(payload));
      message_.assign(payload);
    } else if (opcode == kOpContinuation) {
      message_.append(payload);
      if (fin) handle(protocol_.parse(std::exchange(message_, {})));
    }
  }

  void handle(const Incoming& in) {
    if (in.kind == Incoming::kJoined && state_ == State::kJoining) {
      state_ = State::kJoined;
      peer_id_ = in.peer_id.empty() ? protocol_.own_peer_id(index_) : in.peer_id;
      for (auto& message : protocol_.after_join(index_)) send(message);
      listener_.on_joined(index_, in);
    } else if (in.kind == Incoming::kRelay) {
      listener_.on_relay(index_, in.payload);
    } else if (in.kind == Incoming::kError) {
      if (state_ == State::kJoining) return fail("join refused: " + in.text);
      listener_.on_server_error(index_, in.text);
    }
  }

  void on_read_error() {
    if (state_ == State::kDone) return;
    if (state_ == State::kClosing) return finish_close();
    fail(state_ == State::kJoined ? "dropped" : "closed while joining");
  }

  void finish_close() {
    if (state_ == State::kDone) return;
    abort();
    listener_.on_closed(index_);
  }

  void fail(const std::string& kind) {
    const State was = state_;
    abort();
    if (was != State::kDone) listener_.on_failed(index_, kind, was == State::kJoined);
  }

  net::io_context& io_;
  Poller& poller_;
  std::unique_ptr<Handshake> ws_;  // until the handshake is done
  const Protocol& protocol_;
  Listener& listener_;
  size_t index_;
  uint32_t random_;  // masking keys
  State state_ = State::kNew;
  int fd_ = -1;
  std::string out_;  // frames not written yet, from out_sent_
  size_t out_sent_ = 0;
  bool blocked_ = false;  // the socket had no room: wait for EPOLLOUT
  std::string partial_;   // the start of a frame the next read completes
  std::string message_;   // a fragmented message so far
  std::string peer_id_;
};

void Poller::poll() {
  std::array<epoll_event, 256> events;
  // Bounded, then back to Asio for its timers; the descriptor stays readable if more wait.
  for (int round = 0; round < 8; ++round) {
    const int n =
        ::epoll_wait(epoll_.native_handle(), events.data(), static_cast<int>(events.size()), 0);
    for (int i = 0; i < n; ++i) {
      static_cast<Connection*>(events[static_cast<size_t>(i)].data.ptr)
          ->on_events(events[static_cast<size_t>(i)].events);
    }
    if (n < static_cast<int>(events.size())) return;
  }
}

// ---------------------------------------------------------------------------------------
// The run: connect, idle, relay, close, report.

struct Pair {
  size_t sender = 0;
  size_t receiver = 0;
  std::string message;  // the relay, with the time stamp rewritten before each send
  size_t stamp_offset = 0;
};

struct Results {
  size_t established = 0;
  double connect_seconds = 0;
  long rss_baseline_kib = -1;
  long rss_idle_kib = -1;
  long rss_after_relay_kib = -1;  // a queue or a leak that grows under load shows here
  size_t pairs = 0;
  double relay_seconds = 0;
  uint64_t relays_sent = 0;
  uint64_t relays_delivered = 0;
  uint64_t relays_late = 0;  // arrived after the relay window closed
  std::vector<uint32_t> latencies_us;
  double server_cpu_seconds = -1;
  double client_cpu_seconds = -1;
  double machine_busy_seconds = -1;  // every process's, ours and the server's included
  std::map<std::string, uint64_t> errors;
  bool deadline_passed = false;
  double load_average = -1;
};

// One JSON object on one line, fields in the order written. Numbers get a fixed number of
// decimals (Boost.JSON would print 1.5 as 1.5E0).
class JsonLine {
 public:
  JsonLine& raw(const char* name, const std::string& value) {
    body_ += (body_.empty() ? "\"" : ",\"") + std::string(name) + "\":" + value;
    return *this;
  }
  JsonLine& text(const char* name, const std::string& value) {
    return raw(name, json::serialize(json::string(value)));
  }
  template <class Int>
  JsonLine& integer(const char* name, Int value) {
    return raw(name, std::to_string(value));
  }
  JsonLine& number(const char* name, double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return raw(name, buf);
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

double percentile_ms(std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[i] / 1000.0;
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

class Bench : public Listener {
 public:
  Bench(Options options, std::unique_ptr<Protocol> protocol)
      : options_(std::move(options)),
        protocol_(std::move(protocol)),
        server_(net::ip::make_address(options_.host), options_.port),
        host_header_(options_.host + ":" + std::to_string(options_.port)) {}

  // Runs every phase; returns the exit code.
  int run() {
    deadline_.expires_after(to_duration(options_.max_seconds));
    deadline_.async_wait([this](beast::error_code ec) {
      if (!ec) on_deadline();
    });
    results_.load_average = read_load_average();
    results_.rss_baseline_kib = read_rss_kib(options_.server_pid);
    poller_.start();
    start_connects();
    io_.run();
    print_json();
    if (results_.deadline_passed) return 3;
    return results_.established > 0 ? 0 : 1;  // nothing measured
  }

  void on_joined(size_t, const Incoming& welcome) override {
    if (welcome.heartbeat_ms != 0) heartbeat_ms_ = welcome.heartbeat_ms;
    ++results_.established;
    connect_finished();
  }

  void on_failed(size_t, const std::string& kind, bool joined) override {
    ++results_.errors[kind];
    if (!joined && phase_ == Phase::kConnect) connect_finished();
  }

  void on_server_error(size_t, const std::string& text) override { ++results_.errors[text]; }

  void on_relay(size_t index, std::string_view payload) override {
    const auto stamp = read_stamp(payload);
    const int pair = index < pair_of_receiver_.size() ? pair_of_receiver_[index] : -1;
    if (!stamp || pair < 0) {
      ++results_.errors["unexpected relay"];
      return;
    }
    if (phase_ != Phase::kRelay) {
      ++results_.relays_late;
      if (phase_ == Phase::kDrain && in_flight_relays() == 0) close_all();
      return;
    }
    ++results_.relays_delivered;
    if (results_.latencies_us.size() < kMaxLatencySamples) {
      results_.latencies_us.push_back(static_cast<uint32_t>(now_us() - *stamp));
    }
    send_relay(pairs_[static_cast<size_t>(pair)]);
  }

  void on_closed(size_t) override {
    if (++closed_ == to_close_) finish();
  }

 private:
  enum class Phase { kConnect, kIdle, kRelay, kDrain, kClose, kDone };

  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  // ---- connect
  void start_connects() {
    phase_ = Phase::kConnect;
    phase_started_ = Clock::now();
    connections_.reserve(options_.connections);
    for (size_t i = 0; i < options_.connections; ++i) {
      connections_.push_back(std::make_shared<Connection>(io_, poller_, *protocol_, *this, i));
    }
    phase_timer_.expires_after(to_duration(options_.connect_timeout_seconds));
    phase_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) connect_timed_out();
    });
    heartbeat_timer_tick();
    launch_connects();
  }

  void launch_connects() {
    while (next_connect_ < connections_.size() && in_flight_ < kMaxConnectsInFlight) {
      ++in_flight_;
      connections_[next_connect_++]->start(server_, host_header_);
    }
  }

  void connect_finished() {
    --in_flight_;
    ++connects_done_;
    launch_connects();
    if (connects_done_ == connections_.size()) connect_phase_done();
  }

  // Connections still not joined count as errors; the run goes on with the others.
  void connect_timed_out() {
    for (auto& c : connections_) {
      if (c->state() != Connection::State::kJoined && c->state() != Connection::State::kDone) {
        ++results_.errors["join timeout"];
        c->abort();
      }
    }
    next_connect_ = connections_.size();
    connect_phase_done();
  }

  void connect_phase_done() {
    if (phase_ != Phase::kConnect) return;
    phase_timer_.cancel();
    results_.connect_seconds = seconds_since(phase_started_);
    phase_ = Phase::kIdle;
    after(kIdleSettle, [this] {
      results_.rss_idle_kib = read_rss_kib(options_.server_pid);
      start_relay();
    });
  }

  // ---- relay
  // Pairs are two joined connections of one swarm, taken in turn from each swarm (a pair
  // from swarm 0, one from swarm 1, ...), so that with several swarms the relays spread
  // over all of them.
  void start_relay() {
    std::vector<std::vector<size_t>> joined(protocol_->swarm_of(connections_.size() - 1) + 1);
    for (size_t i = 0; i < connections_.size(); ++i) {
      if (connections_[i]->state() == Connection::State::kJoined) {
        joined[protocol_->swarm_of(i)].push_back(i);
      }
    }
    pair_of_receiver_.assign(connections_.size(), -1);
    const std::string payload = make_payload(options_.payload_bytes);
    for (size_t round = 0; pairs_.size() < options_.pairs; ++round) {
      bool any = false;
      for (const auto& swarm : joined) {
        if (pairs_.size() == options_.pairs || 2 * round + 1 >= swarm.size()) continue;
        pairs_.push_back(make_pair(swarm[2 * round], swarm[2 * round + 1], payload));
        any = true;
      }
      if (!any) break;  // every swarm has given all its pairs
    }
    results_.pairs = pairs_.size();
    phase_ = Phase::kRelay;
    phase_started_ = Clock::now();
    cpu_at_start_ = {read_cpu_seconds(options_.server_pid), own_cpu_seconds()};
    machine_busy_at_start_ = read_machine_busy_seconds();
    for (auto& pair : pairs_) {
      for (size_t w = 0; w < options_.window; ++w) send_relay(pair);
    }
    after(to_duration(options_.relay_seconds), [this] { end_relay(); });
  }

  Pair make_pair(size_t sender, size_t receiver, const std::string& payload) {
    Pair pair;
    pair.sender = sender;
    pair.receiver = receiver;
    pair_of_receiver_[pair.receiver] = static_cast<int>(pairs_.size());
    pair.message = protocol_->relay(pair.sender, connections_[pair.sender]->peer_id(),
                                    connections_[pair.receiver]->peer_id(), payload);
    pair.stamp_offset = pair.message.find(kStampPrefix);
    return pair;
  }

  void send_relay(Pair& pair) {
    write_stamp(pair.message, pair.stamp_offset, now_us());
    if (connections_[pair.sender]->send(pair.message)) ++results_.relays_sent;
  }

  void measure_relay_window() {
    results_.relay_seconds = seconds_since(phase_started_);
    if (options_.server_pid > 0) {
      results_.server_cpu_seconds = read_cpu_seconds(options_.server_pid) - cpu_at_start_.first;
    }
    results_.client_cpu_seconds = own_cpu_seconds() - cpu_at_start_.second;
    const double machine_busy = read_machine_busy_seconds();
    if (machine_busy >= 0 && machine_busy_at_start_ >= 0) {
      results_.machine_busy_seconds = machine_busy - machine_busy_at_start_;
    }
    results_.rss_after_relay_kib = read_rss_kib(options_.server_pid);
  }

  void end_relay() {
    measure_relay_window();
    phase_ = Phase::kDrain;  // relays still in flight arrive as "late", and start nothing
    if (in_flight_relays() == 0) return close_all();
    after(kDrainTimeout, [this] {
      results_.errors["relays never delivered"] += in_flight_relays();
      close_all();
    });
  }

  uint64_t in_flight_relays() const {
    return results_.relays_sent - results_.relays_delivered - results_.relays_late;
  }

  // ---- close
  void close_all() {
    if (phase_ != Phase::kDrain) return;
    phase_ = Phase::kClose;
    heartbeat_timer_.cancel();
    for (auto& c : connections_) {
      if (c->state() == Connection::State::kJoined) ++to_close_;
    }
    if (to_close_ == 0) return finish();
    for (auto& c : connections_) c->close();
    phase_timer_.expires_after(kCloseTimeout);
    phase_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) finish();
    });
  }

  void finish() {
    if (phase_ == Phase::kDone) return;
    phase_ = Phase::kDone;
    if (closed_ < to_close_) results_.errors["close timeout"] += to_close_ - closed_;
    stop_everything();
  }

  void on_deadline() {
    results_.deadline_passed = true;
    if (phase_ == Phase::kRelay) measure_relay_window();  // report the partial window
    std::cerr << "p2pcdn_signal_load: --max-seconds passed; stopping\n";
    phase_ = Phase::kDone;
    stop_everything();
  }

  void stop_everything() {
    poller_.stop();
    deadline_.cancel();
    phase_timer_.cancel();
    heartbeat_timer_.cancel();
    for (auto& c : connections_) c->abort();
    io_.stop();
  }

  // Keeps every connection alive the way a browser would: each sends a heartbeat about twice
  // per interval the server asked for, spread out so the server sees a trickle, not bursts.
  void heartbeat_timer_tick() {
    if (!protocol_->heartbeat()) return;
    heartbeat_timer_.expires_after(std::chrono::milliseconds(kHeartbeatTickMs));
    heartbeat_timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      send_heartbeats();
      heartbeat_timer_tick();
    });
  }

  // One tick's share: each connection's turn comes every heartbeat_ms_ / 2.
  void send_heartbeats() {
    const uint64_t slices = std::max<uint64_t>(1, heartbeat_ms_ / 2 / kHeartbeatTickMs);
    for (size_t i = heartbeat_tick_++ % slices; i < connections_.size(); i += slices) {
      if (connections_[i]->state() == Connection::State::kJoined) {
        connections_[i]->send(*protocol_->heartbeat());
      }
    }
  }

  template <class F>
  void after(Clock::duration d, F f) {
    phase_timer_.expires_after(d);
    phase_timer_.async_wait([f = std::move(f)](beast::error_code ec) {
      if (!ec) f();
    });
  }

  void print_json() {
    auto& r = results_;
    std::sort(r.latencies_us.begin(), r.latencies_us.end());
    const bool have_rss = r.rss_baseline_kib >= 0 && r.rss_idle_kib >= 0 && r.established > 0;
    const long grown_bytes = (r.rss_idle_kib - r.rss_baseline_kib) * 1024;
    uint64_t error_count = 0;
    json::object kinds;
    for (const auto& [kind, n] : r.errors) {
      error_count += n;
      kinds[kind] = n;
    }
    JsonLine out;
    out.text("protocol", protocol_->name())
        .integer("connections_requested", options_.connections)
        .integer("connections_established", r.established)
        .integer("swarm_size",
                 options_.swarm_size == 0 ? options_.connections : options_.swarm_size)
        .integer("swarms", protocol_->swarm_of(options_.connections - 1) + 1)
        .number("connect_seconds", r.connect_seconds, 3)
        .integer("rss_baseline_kib", r.rss_baseline_kib)
        .integer("rss_idle_kib", r.rss_idle_kib)
        .integer("rss_after_relay_kib", r.rss_after_relay_kib)
        .raw("bytes_per_idle_connection",
             have_rss ? std::to_string(grown_bytes / static_cast<long>(r.established)) : "null")
        .integer("pairs", r.pairs)
        .integer("window", options_.window)
        .integer("payload_bytes", std::max(options_.payload_bytes, kStampSize))
        .number("relay_seconds", r.relay_seconds, 3)
        .integer("relays_sent", r.relays_sent)
        .integer("relays_delivered", r.relays_delivered)
        .integer("relays_late", r.relays_late)
        .number("relays_per_second", r.relay_seconds > 0 ? r.relays_delivered / r.relay_seconds : 0,
                1)
        .number("latency_p50_ms", percentile_ms(r.latencies_us, 0.50), 3)
        .number("latency_p99_ms", percentile_ms(r.latencies_us, 0.99), 3)
        .number("server_cpu_seconds_relay", r.server_cpu_seconds, 2)
        .number("client_cpu_seconds_relay", r.client_cpu_seconds, 2)
        .number("machine_busy_seconds_relay", r.machine_busy_seconds, 2)
        .integer("errors", error_count)
        .raw("error_kinds", json::serialize(kinds))
        .raw("deadline_passed", r.deadline_passed ? "true" : "false")
        .number("load_average_at_start", r.load_average, 2);
    std::cout << out.str() << std::endl;
  }

  Options options_;
  std::unique_ptr<Protocol> protocol_;
  net::io_context io_{1};
  Poller poller_{io_};
  tcp::endpoint server_;
  std::string host_header_;
  net::steady_timer deadline_{io_};
  net::steady_timer phase_timer_{io_};
  net::steady_timer heartbeat_timer_{io_};
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<Pair> pairs_;
  std::vector<int> pair_of_receiver_;
  Phase phase_ = Phase::kConnect;
  Clock::time_point phase_started_;
  std::pair<double, double> cpu_at_start_{-1, -1};
  double machine_busy_at_start_ = -1;
  size_t next_connect_ = 0;
  size_t in_flight_ = 0;
  size_t connects_done_ = 0;
  size_t to_close_ = 0;
  size_t closed_ = 0;
  uint32_t heartbeat_ms_ = 15000;
  uint64_t heartbeat_tick_ = 0;
  Results results_;
};

// ---------------------------------------------------------------------------------------
// Command line.

const char* const kUsage =
    "usage: p2pcdn_signal_load --port PORT [--host 127.0.0.1] [--protocol p2pcdn|tracker]\n"
    "  [--connections 10000] [--relay-seconds 10] [--pairs 1000] [--window 8] [--swarm-size 0]\n"
    "  [--payload-bytes 500] [--max-seconds 300] [--connect-timeout-seconds 60]\n"
    "  [--server-pid PID]\n"
    "--swarm-size N: connection i joins swarm i / N, pairs stay within a swarm (0: one swarm).\n"
    "Prints one JSON object; exits 3 if --max-seconds passed, 2 on a bad flag, 1 if no\n"
    "connection could join.\n";

bool parse_number(const std::string& text, double min, double max, double& out) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= min && v <= max)) return false;
  out = v;
  return true;
}

// Fills one option from "--name value"; false if the name or the value is bad.
bool set_option(Options& o, const std::string& name, const std::string& value) {
  double v = 0;
  auto number = [&](double min, double max) { return parse_number(value, min, max, v); };
  if (name == "--protocol") {
    o.protocol = value;
    return value == "p2pcdn" || value == "tracker";
  }
  if (name == "--host") {
    o.host = value;
    beast::error_code ec;
    const auto address = net::ip::make_address_v4(value, ec);
    return !ec && address.is_loopback();  // this tool only ever loads a local server
  }
  if (name == "--port" && number(1, 65535))
    o.port = static_cast<uint16_t>(v);
  else if (name == "--connections" && number(2, 1e6))
    o.connections = static_cast<size_t>(v);
  else if (name == "--relay-seconds" && number(0.1, 3600))
    o.relay_seconds = v;
  else if (name == "--pairs" && number(1, 1e6))
    o.pairs = static_cast<size_t>(v);
  else if (name == "--window" && number(1, 1000))
    o.window = static_cast<size_t>(v);
  else if (name == "--swarm-size" && number(0, 1e6))
    o.swarm_size = static_cast<size_t>(v);
  else if (name == "--payload-bytes" && number(0, 60000))
    o.payload_bytes = static_cast<size_t>(v);
  else if (name == "--max-seconds" && number(1, 86400))
    o.max_seconds = v;
  else if (name == "--connect-timeout-seconds" && number(1, 3600))
    o.connect_timeout_seconds = v;
  else if (name == "--server-pid" && number(1, 1e9))
    o.server_pid = static_cast<int>(v);
  else
    return false;
  return true;
}

// On --help or a bad flag, prints the usage and returns nullopt; exit_code says which.
std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string name = argv[i];
    if (name == "--help") {
      std::cout << kUsage;
      exit_code = 0;
      return std::nullopt;
    }
    if (i + 1 >= argc || !set_option(o, name, argv[i + 1])) {
      std::cerr << "p2pcdn_signal_load: bad flag or value: " << name << '\n' << kUsage;
      exit_code = 2;
      return std::nullopt;
    }
  }
  if (o.port == 0) {
    std::cerr << "p2pcdn_signal_load: --port is required\n" << kUsage;
    exit_code = 2;
    return std::nullopt;
  }
  return o;
}

// Every connection is a descriptor; take what the hard limit allows.
void raise_fd_limit(size_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < needed + 64) {
    std::cerr << "p2pcdn_signal_load: warning: descriptor limit " << limit.rlim_cur << " < "
              << needed + 64 << "; connections beyond it will fail\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  raise_fd_limit(options->connections);
  std::unique_ptr<Protocol> protocol;
  if (options->protocol == "tracker") {
    protocol = std::make_unique<TrackerProtocol>(options->swarm_size);
  } else {
    protocol = std::make_unique<P2pcdnProtocol>(options->swarm_size);
  }
  Bench bench(std::move(*options), std::move(protocol));
  return bench.run();
}
