#include "server_config.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <type_traits>

namespace p2pcdn::server {

namespace po = boost::program_options;

namespace {

// What a numeric flag accepts, for its error message.
template <class T>
std::string accepted_numbers(T min, T max) {
  if constexpr (std::is_integral_v<T>) {
    return "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  } else {
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<double>(min));
    return std::string("a finite number from ") + text + " up";
  }
}

// The value of a numeric flag, read strictly: Boost's lexical_cast would turn "-1" into 65535
// for a port, so only digits (and for fractions a sign, point and exponent) within
// [min, max] are taken.
template <class T>
class NumberValue : public po::typed_value<T> {
 public:
  NumberValue(T* target, T min, T max) : po::typed_value<T>(target), min_(min), max_(max) {
    this->default_value(*target);
  }

  void xparse(boost::any& store, const std::vector<std::string>& tokens) const override {
    po::validators::check_first_occurrence(store);
    const std::string& text = po::validators::get_single_string(tokens);
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    const bool all_read = ec == std::errc() && end == text.data() + text.size();
    // Written so that NaN fails too.
    if (!all_read || !(value >= min_ && value <= max_)) {
      throw po::error_with_option_name("'%canonical_option%' takes " +
                                       accepted_numbers(min_, max_) + ", not '" + text + "'");
    }
    store = value;
  }

 private:
  T min_;
  T max_;
};

// Every numeric flag goes through this; its default is the value `target` holds.
template <class T>
NumberValue<T>* number(T* target, T min = 0, T max = std::numeric_limits<T>::max()) {
  return new NumberValue<T>(target, min, max);
}

// Why a parsed config cannot run, or nullptr.
const char* check(const ServerConfig& c) {
  if (c.cert_file.empty() != c.key_file.empty()) return "--cert and --key go together";
  if (!(c.messages_per_second > 0)) return "--messages-per-second must be positive";
  // Relays may fill half the queue: a message of the largest size must fit in that half.
  if (c.max_send_queue_bytes < 2 * uint64_t{c.max_message_size})
    return "--max-send-queue must be at least twice --max-message-size";
  if (!(c.max_relay_in_per_second > 0)) return "--max-relay-in-per-second must be positive";
  if (c.heartbeat_interval_ms == 0 || c.peer_timeout_ms <= c.heartbeat_interval_ms) {
    return "--peer-timeout-ms must be longer than --heartbeat-interval-ms";
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    return "--log-level must be debug, info, warn or error";
  }
  return nullptr;
}

// "host:port", "[v6 address]:port": the host and port of --redis.
const char* parse_redis_address(ServerConfig& c) {
  if (c.redis.empty()) return nullptr;
  const size_t colon = c.redis.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == c.redis.size())
    return "--redis takes HOST:PORT";
  std::string host = c.redis.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = c.redis.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    return "--redis takes HOST:PORT, with a port from 1 to 65535";
  c.redis_host = std::move(host);
  c.redis_port = static_cast<uint16_t>(value);
  return nullptr;
}

const char* parse_cache_rules(const std::vector<std::string>& rules, ServerConfig& c) {
  for (const auto& rule : rules) {
    const size_t eq = rule.find('=');
    if (eq == std::string::npos || eq == 0 || rule[0] != '/')
      return "--cache-control takes /PREFIX=VALUE";
    c.cache_control_rules.emplace_back(rule.substr(0, eq), rule.substr(eq + 1));
  }
  return nullptr;
}

// A root that is missing or a file would answer 404 to every request: refuse to start instead.
std::string root_problem(const std::string& root) {
  if (root.empty()) return {};
  std::error_code ec;
  const auto status = std::filesystem::status(root, ec);
  if (ec) return "--root '" + root + "': " + ec.message();
  if (!std::filesystem::is_directory(status)) return "--root '" + root + "' is not a folder";
  return {};
}

}  // namespace

std::optional<ServerConfig> parse_server_config(int argc, const char* const* argv, int& exit_code) {
  ServerConfig c;
  std::vector<std::string> cache_rules;
  po::options_description options("p2pcdn-server: signaling for p2pcdn, and static files");
  // clang-format off
  options.add_options()
    ("help,h", "show this help")
    ("version", "print the version")
    ("bind", po::value(&c.bind_address)->default_value(c.bind_address), "address to listen on")
    ("port,p", number(&c.port), "port for HTTP(S) and WebSocket signaling at /signal")
    ("root,r", po::value(&c.root), "folder of static files to serve (the demo: web_app/ and dist/)")
    ("cert", po::value(&c.cert_file), "TLS certificate chain (PEM); enables HTTPS/WSS on the same port")
    ("key", po::value(&c.key_file), "TLS private key (PEM)")
    ("allow-origin", po::value(&c.allowed_origins)->composing(),
       "site allowed to join (e.g. https://example.com); repeat for several; default: any")
    ("allow-no-origin", po::bool_switch(&c.allow_no_origin),
       "let clients without an Origin header (not browsers) join any allowed site")
    ("deny-prefix", po::value(&c.deny_prefixes)->composing(), "answer 403 for static paths starting with this (repeatable): the origin 'down' for chosen files")
    ("cache-control", po::value(&cache_rules)->composing(), "PREFIX=VALUE: Cache-Control for static paths starting with PREFIX (repeatable)")
    ("log-level", po::value(&c.log_level)->default_value(c.log_level), "debug, info, warn or error")
    ("access-log", po::bool_switch(&c.access_log), "log each HTTP request (method, path, status, bytes, ms) and each WebSocket accepted, whatever --log-level")
    ("max-connections", number(&c.max_connections, 1u), "TCP connections at once")
    ("max-connections-per-ip", number(&c.max_connections_per_ip, 1u), "TCP connections per client address")
    ("messages-per-second", number(&c.messages_per_second), "signaling messages per peer per second (burst: twice that)")
    ("max-message-size", number(&c.max_message_size, 1024u), "largest signaling message in bytes")
    ("max-announced", number(&c.max_announced_per_peer), "resources one peer may announce")
    ("max-announced-per-ip", number(&c.max_announced_per_ip), "resources the peers of one client address may announce together")
    ("max-peers-per-ip-per-swarm", number(&c.max_peers_per_ip_per_swarm, 1u), "peers of one client address in one swarm")
    ("max-lookup-peers", number(&c.max_lookup_peers), "most peers one lookup returns")
    ("max-send-queue", number(&c.max_send_queue_bytes), "bytes queued to a peer before it is closed as too slow; relays fill at most half")
    ("max-relay-in-per-second", number(&c.max_relay_in_per_second), "relays into one peer per second, from all senders (burst: twice that)")
    ("heartbeat-interval-ms", number(&c.heartbeat_interval_ms), "how often clients are told to send HEARTBEAT")
    ("peer-timeout-ms", number(&c.peer_timeout_ms), "a peer silent this long is dropped and its announcements purged")
    ("shutdown-grace-ms", number(&c.shutdown_grace_ms), "on SIGTERM, time given to close frames and queued relays")
    ("http-timeout-ms", number(&c.http_timeout_ms), "time for an HTTP request (headers and body) to arrive, and so how long an idle kept-alive connection stays open; while a response is sent, the longest the client may go without reading any of it (a slow download of any length is never cut while it reads)")
    ("cache-max-age", number(&c.cache_max_age_s), "Cache-Control max-age for static files other than HTML")
    ("redis", po::value(&c.redis), "HOST:PORT of a Redis through which several instances act as one (shared lookups, relays between instances); default: none, this instance alone")
    ("redis-prefix", po::value(&c.redis_prefix)->default_value(c.redis_prefix), "start of every Redis key and channel this deployment uses")
    ("redis-ttl-ms", number(&c.redis_ttl_ms, 300u, 600000u), "an instance silent in Redis this long is taken for dead and its holders are no longer handed out; it refreshes every third of it");
  // clang-format on
  po::variables_map vm;
  try {
    // No positional arguments: a stray word (`p2pcdn-server 8080`) is an error, not ignored.
    const po::positional_options_description no_positional;
    po::store(po::command_line_parser(argc, argv).options(options).positional(no_positional).run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "p2pcdn-server: " << e.what() << "\n(see --help)\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << options << '\n';
    exit_code = 0;
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "p2pcdn-server " P2PCDN_VERSION "\n";
    exit_code = 0;
    return std::nullopt;
  }
  const char* problem = parse_cache_rules(cache_rules, c);
  if (problem == nullptr) problem = parse_redis_address(c);
  if (problem == nullptr) problem = check(c);
  const std::string why = problem != nullptr ? problem : root_problem(c.root);
  if (!why.empty()) {
    std::cerr << "p2pcdn-server: " << why << '\n';
    exit_code = 2;
    return std::nullopt;
  }
  return c;
}

}  // namespace p2pcdn::server
