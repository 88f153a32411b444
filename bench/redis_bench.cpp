// Scale-out load generator (issue 18): many WebSocket connections spread over one or more
// p2pcdn-server instances, then relays between pairs of them (on the same instance or on
// different ones) as fast as a window allows or at a fixed rate, then lookups. Prints one
// JSON object. bench/redis_bench.sh runs it against one instance without Redis, one with
// Redis and three with Redis, and makes the table.
//
// One thread drives every connection (Asio); each relay carries its send time, and its
// receiver (in this same process) takes the latency and lets its sender send the next.
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "p2pcdn/signal.hpp"

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kSite = "https://bench.example";
constexpr size_t kConnectsInFlight = 200;
constexpr uint32_t kFirstSource = 0x7f000002;  // 127.0.0.2 ..: no ephemeral port runs out
constexpr uint32_t kSources = 249;
constexpr size_t kCommonResources = 100;  // held by many: lookups answered on one instance
constexpr size_t kStampSize = 20;         // "ts:" + 16 digits + ";"

const Clock::time_point kStart = Clock::now();
Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

uint64_t now_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - kStart).count());
}

// User + system CPU seconds of a process (fields 14 and 15 of /proc/PID/stat), or 0.
double cpu_seconds(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  unsigned long long user = 0, system = 0;
  fields >> user >> system;
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Options {
  std::vector<uint16_t> ports;
  std::vector<int> server_pids;  // their CPU during the relays, for the cost per relay
  size_t connections = 10000;
  size_t pairs = 1000;
  std::string mode = "same";  // same: both ends on one instance; cross: on different ones
  double relay_seconds = 10;
  double rate = 0;  // relays/s in total; 0: each pair keeps `window` in flight
  int window = 4;
  double lookup_seconds = 5;
  size_t lookup_askers = 500;
  double max_seconds = 300;
  size_t payload_bytes = 300;
};

p2pcdn::ResourceId common_resource(size_t i) {
  p2pcdn::ResourceId id{};
  id[0] = 1;
  id[1] = static_cast<uint8_t>(i % kCommonResources);
  return id;
}

// Held by connection i alone.
p2pcdn::ResourceId own_resource(size_t i) {
  p2pcdn::ResourceId id{};
  id[0] = 2;
  for (int b = 0; b < 8; ++b) id[2 + b] = static_cast<uint8_t>(i >> (8 * b));
  return id;
}

std::string encode(const p2pcdn::SignalMessage& m) {
  auto bytes = p2pcdn::encode_signal(m);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

struct Stats {
  std::vector<uint32_t> samples;  // microseconds
  uint64_t count = 0;
  void add(uint64_t us) {
    ++count;
    if (samples.size() < 5'000'000) samples.push_back(static_cast<uint32_t>(us));
  }
  double percentile_ms(double p) {
    if (samples.empty()) return -1;
    const size_t at = std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()));
    std::nth_element(samples.begin(), samples.begin() + at, samples.end());
    return samples[at] / 1000.0;
  }
};

class Bench;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& io, Bench& bench, size_t index)
      : ws_(io), bench_(bench), index_(index) {}
  void start(uint16_t port);
  void send(std::string message) {
    if (!open_) return;
    queue_.push_back(std::move(message));
    if (!writing_) write();
  }
  void close() {
    if (!open_) return;
    open_ = false;
    beast::get_lowest_layer(ws_).close();
  }
  const p2pcdn::PeerId& id() const { return id_; }
  bool joined() const { return joined_; }

 private:
  void write() {
    writing_ = true;
    ws_.async_write(net::buffer(queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->writing_ = false;
                      if (ec) return;
                      self->queue_.pop_front();
                      if (!self->queue_.empty() && self->open_) self->write();
                    });
  }
  void read();

  websocket::stream<beast::tcp_stream> ws_;
  Bench& bench_;
  size_t index_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool open_ = false;
  bool joined_ = false;
  p2pcdn::PeerId id_{};
};

class Bench {
 public:
  Bench(net::io_context& io, Options options) : io_(io), o_(std::move(options)), timer_(io) {}

  void run() {
    for (size_t i = 0; i < o_.connections; ++i)
      connections_.push_back(std::make_shared<Connection>(io_, *this, i));
    connect_more();
    deadline_ = std::make_unique<net::steady_timer>(io_);
    deadline_->expires_after(seconds(o_.max_seconds));
    deadline_->async_wait([this](beast::error_code ec) {
      if (ec) return;
      error("deadline passed in phase " + phase_);
      finish();
    });
  }

  uint16_t port_of(size_t i) const { return o_.ports[i % o_.ports.size()]; }

  void on_open(size_t i) { connections_[i]->send(encode(p2pcdn::Join{kSite, "", 0})); }
  void on_failed(size_t i, const std::string& what) {
    if (phase_ == "connect") {
      error("connection " + std::to_string(i) + ": " + what);
      ++connected_;
      connect_more();
    } else if (phase_ != "done") {
      error("connection " + std::to_string(i) + " lost: " + what);
    }
  }
  void on_welcome(size_t i) {
    connections_[i]->send(encode(p2pcdn::Announce{{common_resource(i), own_resource(i)}}));
    ++connected_;
    ++joined_;
    connect_more();
  }

  void on_relay(size_t receiver, std::string_view payload) {
    if (payload.size() < kStampSize || payload.substr(0, 3) != "ts:") return;
    const uint64_t sent = std::strtoull(std::string(payload.substr(3, 16)).c_str(), nullptr, 10);
    const uint64_t now = now_us();
    if (phase_ == "relay" && sent >= window_start_us_) relays_.add(now - sent);
    if (o_.rate == 0 && phase_ == "relay") {
      auto it = sender_of_.find(receiver);
      if (it != sender_of_.end()) send_relay(it->second);
    }
  }

  void on_peers(const p2pcdn::Peers& peers) {
    auto it = lookup_sent_.find(peers.lookup_id);
    if (it == lookup_sent_.end()) return;
    const uint64_t took = now_us() - it->second.first;
    const bool rare = it->second.second;
    lookup_sent_.erase(it);
    if (phase_ != "lookup") return;
    (rare ? rare_lookups_ : common_lookups_).add(took);
    if (rare && peers.peers.empty()) ++rare_not_found_;
    send_lookup(peers.lookup_id % o_.lookup_askers);
  }

  void on_error(const std::string& text) {
    ++server_errors_;
    if (server_errors_ <= 5) std::cerr << "redis_bench: server error: " << text << '\n';
  }

 private:
  void error(const std::string& text) {
    ++errors_;
    if (errors_ <= 5) std::cerr << "redis_bench: " << text << '\n';
  }

  void connect_more() {
    while (next_ < connections_.size() && next_ - connected_ < kConnectsInFlight) {
      connections_[next_]->start(port_of(next_));
      ++next_;
    }
    if (connected_ == connections_.size() && phase_ == "connect") {
      connect_seconds_ = std::chrono::duration<double>(Clock::now() - kStart).count();
      phase_ = "settle";
      // Announcements reach the other instances through Redis a moment later.
      after(2.0, [this] { start_relays(); });
    }
  }

  void after(double s, std::function<void()> f) {
    timer_.expires_after(seconds(s));
    timer_.async_wait([f = std::move(f)](beast::error_code ec) {
      if (!ec) f();
    });
  }

  // Pair k: sender k, receiver k + offset, where offset keeps both on one instance (a
  // multiple of the instance count) or puts them on the next one.
  void start_relays() {
    const size_t n = o_.ports.size();
    const size_t pairs = std::min(o_.pairs, o_.connections / 2);
    size_t offset = ((pairs + n - 1) / n) * n;
    if (o_.mode == "cross") offset += 1;
    for (size_t k = 0; k < pairs && k + offset < o_.connections; ++k) {
      if (!connections_[k]->joined() || !connections_[k + offset]->joined()) continue;
      pairs_.emplace_back(k, k + offset);
      sender_of_[k + offset] = pairs_.size() - 1;
    }
    payload_.assign(std::max(o_.payload_bytes, kStampSize), 'x');
    phase_ = "relay";
    cpu_at_start_ = servers_cpu();
    window_start_us_ = now_us();
    relay_start_ = Clock::now();
    if (o_.rate == 0) {
      for (size_t p = 0; p < pairs_.size(); ++p)
        for (int w = 0; w < o_.window; ++w) send_relay(p);
    } else {
      paced_tick();
    }
    after(o_.relay_seconds, [this] { end_relays(); });
  }

  double servers_cpu() const {
    double total = 0;
    for (int pid : o_.server_pids) total += cpu_seconds(pid);
    return total;
  }

  void paced_tick() {
    if (phase_ != "relay") return;
    // Sends what the rate allows since the start, spread over the pairs in turn.
    const double elapsed = std::chrono::duration<double>(Clock::now() - relay_start_).count();
    const uint64_t due = static_cast<uint64_t>(elapsed * o_.rate);
    while (paced_sent_ < due && !pairs_.empty()) {
      send_relay(paced_sent_ % pairs_.size());
      ++paced_sent_;
    }
    pace_timer_ = std::make_unique<net::steady_timer>(io_);
    pace_timer_->expires_after(std::chrono::milliseconds(1));
    pace_timer_->async_wait([this](beast::error_code ec) {
      if (!ec) paced_tick();
    });
  }

  void send_relay(size_t p) {
    if (phase_ != "relay") return;
    const auto [from, to] = pairs_[p];
    char stamp[kStampSize + 1];
    std::snprintf(stamp, sizeof stamp, "ts:%016llu;", static_cast<unsigned long long>(now_us()));
    std::string payload = payload_;
    payload.replace(0, kStampSize, stamp, kStampSize);
    p2pcdn::Relay relay{connections_[to]->id(), p2pcdn::RelayKind::kCandidate, std::move(payload)};
    connections_[from]->send(encode(relay));
    ++relays_sent_;
  }

  void end_relays() {
    relay_elapsed_ = std::chrono::duration<double>(Clock::now() - relay_start_).count();
    relay_count_ = relays_.count;
    relay_cpu_ = servers_cpu() - cpu_at_start_;
    phase_ = "drain";
    after(1.0, [this] { start_lookups(); });
  }

  // Lookups: asker i asks, in turn, for a common resource (enough holders on its own
  // instance) and for a resource only one other connection holds (on another instance when
  // there are several: the other instances must be asked).
  void start_lookups() {
    phase_ = "lookup";
    lookup_start_ = Clock::now();
    const size_t askers = std::min(o_.lookup_askers, o_.connections);
    o_.lookup_askers = askers;
    for (size_t a = 0; a < askers; ++a) send_lookup(a);
    after(o_.lookup_seconds, [this] { finish(); });
  }

  void send_lookup(size_t asker) {
    if (phase_ != "lookup") return;
    const bool rare = (lookups_issued_ / o_.lookup_askers) % 2 == 1;
    const uint32_t id = static_cast<uint32_t>(++lookups_issued_ * o_.lookup_askers + asker);
    const size_t holder = (asker + 1) % o_.connections;  // on the next instance
    const p2pcdn::ResourceId resource = rare ? own_resource(holder) : common_resource(asker);
    lookup_sent_[id] = {now_us(), rare};
    connections_[asker]->send(encode(p2pcdn::Lookup{id, resource, 20, 0}));
  }

  void finish() {
    if (phase_ == "done") return;
    const double lookup_elapsed =
        std::chrono::duration<double>(Clock::now() - lookup_start_).count();
    phase_ = "done";
    timer_.cancel();
    if (deadline_) deadline_->cancel();
    if (pace_timer_) pace_timer_->cancel();
    std::printf(
        "{\"instances\": %zu, \"connections\": %zu, \"joined\": %zu, \"mode\": \"%s\", "
        "\"pairs\": %zu, \"rate_target\": %.0f, \"connect_seconds\": %.2f, "
        "\"relays\": %llu, \"relays_sent\": %llu, \"relay_seconds\": %.3f, "
        "\"relays_per_second\": %.0f, \"relay_p50_ms\": %.3f, \"relay_p99_ms\": %.3f, "
        "\"common_lookups\": %llu, \"common_lookup_p50_ms\": %.3f, "
        "\"common_lookup_p99_ms\": %.3f, \"rare_lookups\": %llu, \"rare_lookup_p50_ms\": %.3f, "
        "\"rare_lookup_p99_ms\": %.3f, \"rare_not_found\": %llu, \"lookups_per_second\": %.0f, "
        "\"server_cpu_seconds_relay\": %.2f, \"server_cpu_us_per_relay\": %.2f, "
        "\"errors\": %llu, \"server_errors\": %llu}\n",
        o_.ports.size(), o_.connections, joined_, o_.mode.c_str(), pairs_.size(), o_.rate,
        connect_seconds_, static_cast<unsigned long long>(relay_count_),
        static_cast<unsigned long long>(relays_sent_), relay_elapsed_,
        relay_elapsed_ > 0 ? relay_count_ / relay_elapsed_ : 0.0, relays_.percentile_ms(0.5),
        relays_.percentile_ms(0.99), static_cast<unsigned long long>(common_lookups_.count),
        common_lookups_.percentile_ms(0.5), common_lookups_.percentile_ms(0.99),
        static_cast<unsigned long long>(rare_lookups_.count), rare_lookups_.percentile_ms(0.5),
        rare_lookups_.percentile_ms(0.99), static_cast<unsigned long long>(rare_not_found_),
        lookup_elapsed > 0 ? (common_lookups_.count + rare_lookups_.count) / lookup_elapsed : 0.0,
        relay_cpu_, relay_count_ > 0 ? relay_cpu_ * 1e6 / relay_count_ : -1.0,
        static_cast<unsigned long long>(errors_), static_cast<unsigned long long>(server_errors_));
    std::fflush(stdout);
    for (auto& c : connections_) c->close();
    io_.stop();
  }

 public:
  uint64_t errors_ = 0;
  uint64_t server_errors_ = 0;

 private:
  net::io_context& io_;
  Options o_;
  net::steady_timer timer_;
  std::unique_ptr<net::steady_timer> deadline_, pace_timer_;
  std::vector<std::shared_ptr<Connection>> connections_;
  size_t next_ = 0, connected_ = 0, joined_ = 0;
  std::string phase_ = "connect";
  double connect_seconds_ = 0;
  std::vector<std::pair<size_t, size_t>> pairs_;
  std::unordered_map<size_t, size_t> sender_of_;  // receiver -> pair
  std::string payload_;
  uint64_t window_start_us_ = 0, relays_sent_ = 0, paced_sent_ = 0, relay_count_ = 0;
  Clock::time_point relay_start_, lookup_start_;
  double relay_elapsed_ = 0, cpu_at_start_ = 0, relay_cpu_ = 0;
  Stats relays_, common_lookups_, rare_lookups_;
  std::unordered_map<uint32_t, std::pair<uint64_t, bool>> lookup_sent_;
  uint64_t lookups_issued_ = 0, rare_not_found_ = 0;
};

void Connection::start(uint16_t port) {
  auto& socket = beast::get_lowest_layer(ws_).socket();
  beast::error_code ec;
  socket.open(tcp::v4(), ec);
  const int on = 1;
  if (!ec) setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
  if (!ec) socket.bind(tcp::endpoint(net::ip::address_v4(kFirstSource + index_ % kSources), 0), ec);
  if (ec) return bench_.on_failed(index_, "bind: " + ec.message());
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(20));
  beast::get_lowest_layer(ws_).async_connect(
      tcp::endpoint(net::ip::address_v4::loopback(), port),
      [self = shared_from_this()](beast::error_code e) {
        if (e) return self->bench_.on_failed(self->index_, "connect: " + e.message());
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true), ignored);
        self->ws_.set_option(websocket::stream_base::decorator(
            [](websocket::request_type& req) { req.set(beast::http::field::origin, kSite); }));
        self->ws_.binary(true);
        self->ws_.async_handshake("127.0.0.1", "/signal", [self](beast::error_code e2) {
          if (e2) return self->bench_.on_failed(self->index_, "handshake: " + e2.message());
          beast::get_lowest_layer(self->ws_).expires_never();
          self->open_ = true;
          self->read();
          self->bench_.on_open(self->index_);
        });
      });
}

void Connection::read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) {
      if (self->open_) self->bench_.on_failed(self->index_, "read: " + ec.message());
      self->open_ = false;
      return;
    }
    const auto data = self->buffer_.cdata();
    auto decoded = p2pcdn::decode_signal(
        p2pcdn::ByteView(static_cast<const uint8_t*>(data.data()), data.size()));
    if (decoded) {
      auto& m = decoded.value();
      if (auto* relay = std::get_if<p2pcdn::Relay>(&m)) {
        self->bench_.on_relay(self->index_, relay->payload);
      } else if (auto* peers = std::get_if<p2pcdn::Peers>(&m)) {
        self->bench_.on_peers(*peers);
      } else if (auto* welcome = std::get_if<p2pcdn::Welcome>(&m)) {
        self->id_ = welcome->peer_id;
        self->joined_ = true;
        self->bench_.on_welcome(self->index_);
      } else if (auto* error = std::get_if<p2pcdn::SignalError>(&m)) {
        self->bench_.on_error(std::to_string(error->code) + " " + error->message);
      }
    }
    self->buffer_.consume(self->buffer_.size());
    self->read();
  });
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--ports") {
      size_t at = 0;
      while (at <= value.size()) {
        const size_t comma = value.find(',', at);
        o.ports.push_back(static_cast<uint16_t>(std::stoi(value.substr(at, comma - at))));
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
    } else if (flag == "--server-pids") {
      std::istringstream list(value);
      for (std::string pid; std::getline(list, pid, ',');) o.server_pids.push_back(std::stoi(pid));
    } else if (flag == "--connections") {
      o.connections = std::stoul(value);
    } else if (flag == "--pairs") {
      o.pairs = std::stoul(value);
    } else if (flag == "--mode") {
      o.mode = value;
    } else if (flag == "--relay-seconds") {
      o.relay_seconds = std::stod(value);
    } else if (flag == "--rate") {
      o.rate = std::stod(value);
    } else if (flag == "--window") {
      o.window = std::stoi(value);
    } else if (flag == "--lookup-seconds") {
      o.lookup_seconds = std::stod(value);
    } else if (flag == "--lookup-askers") {
      o.lookup_askers = std::stoul(value);
    } else if (flag == "--payload-bytes") {
      o.payload_bytes = std::stoul(value);
    } else if (flag == "--max-seconds") {
      o.max_seconds = std::stod(value);
    } else {
      std::cerr << "redis_bench: unknown flag " << flag << '\n';
      return false;
    }
  }
  return !o.ports.empty() && (o.mode == "same" || (o.mode == "cross" && o.ports.size() > 1));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::cerr << "usage: p2pcdn_redis_bench --ports P1[,P2,...] [--connections N] [--pairs N]"
                 " [--mode same|cross] [--relay-seconds S] [--rate R] [--window W]"
                 " [--lookup-seconds S] [--lookup-askers N] [--payload-bytes N]\n";
    return 2;
  }
  net::io_context io(1);
  Bench bench(io, options);
  bench.run();
  io.run();
  // A run that saw errors says so: its figures are not to be trusted.
  return bench.errors_ == 0 && bench.server_errors_ == 0 ? 0 : 1;
}
