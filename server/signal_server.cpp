#include "signal_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>

#include "memory_swarm_registry.hpp"
#include "redis_cluster.hpp"
#include "server_context.hpp"

namespace p2pcdn::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct SignalServer::State {
  explicit State(ServerConfig c)
      : config(std::move(c)),
        log(parse_log_level(config.log_level)),
        hub(config, registry, metrics, log),
        limits(config.max_connections, config.max_connections_per_ip, metrics),
        context{config, metrics, log, hub, limits, nullptr, [this] { return now_ms(); }},
        acceptor(io),
        sweep_timer(io),
        grace_timer(io),
        signals(io) {
    if (!config.redis.empty()) {
      cluster = std::make_unique<RedisCluster>(io, config, hub, registry, metrics, log,
                                               [this] { return now_ms(); });
      hub.set_cluster(cluster.get());
    }
  }

  ~State() { hub.set_cluster(nullptr); }  // the cluster goes first

  uint64_t now_ms() const {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count());
  }

  void accept() {
    acceptor.async_accept(io.get_executor(), [this](boost::system::error_code ec, Socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) admit(std::move(socket));
      accept();
    });
  }

  void admit(Socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    const std::string ip = remote.address().to_string();
    ConnectionTicket ticket;
    Rejection why{};
    if (limits.admit(ip, ticket, why)) {
      // Small writes (a response head, a relay) must not wait for Nagle and delayed ACKs.
      socket.set_option(tcp::no_delay(true), ec);
      start_session(std::move(socket), context, std::move(ticket));
      return;
    }
    // Refused before any read: a short answer the client can understand, then close.
    log.log(LogLevel::kDebug, "connection_refused", {{"ip", ip}, {"reason", rejection_name(why)}});
    const std::string_view reply =
        why == Rejection::kServerFull ? "HTTP/1.1 503 Service Unavailable\r\nConnection: "
                                        "close\r\nContent-Length: 12\r\n\r\nserver full\n"
                                      : "HTTP/1.1 429 Too Many Requests\r\nConnection: "
                                        "close\r\nContent-Length: 21\r\n\r\ntoo many connections\n";
    socket.non_blocking(true, ec);
    net::write(socket, net::buffer(reply.data(), reply.size()), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  void sweep() {
    const auto every = std::chrono::milliseconds(
        std::max<uint32_t>(50, std::min<uint32_t>(1000, config.peer_timeout_ms / 4)));
    sweep_timer.expires_after(every);
    sweep_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      hub.sweep(now_ms());
      sweep();
    });
  }

  void shutdown() {
    if (context.shutting_down) return;
    context.shutting_down = true;
    log.log(LogLevel::kInfo, "shutdown_started",
            {{"peers", std::to_string(hub.connection_count())}});
    boost::system::error_code ec;
    acceptor.close(ec);
    signals.cancel(ec);
    sweep_timer.cancel();
    hub.shutdown();
    if (cluster) cluster->stop();  // after the hub has retracted its peers' holders
    shutdown_deadline = now_ms() + config.shutdown_grace_ms;
    wait_for_peers();
  }

  // Ends the loop once every peer has gone, or when the grace period is over.
  void wait_for_peers() {
    const bool done = hub.connection_count() == 0 && (!cluster || cluster->stopped());
    if (done || now_ms() >= shutdown_deadline) {
      log.log(LogLevel::kInfo, "shutdown_done",
              {{"peers_left", std::to_string(hub.connection_count())}});
      io.stop();
      return;
    }
    grace_timer.expires_after(std::chrono::milliseconds(20));
    grace_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) wait_for_peers();
    });
  }

  ServerConfig config;
  Logger log;
  Metrics metrics;
  MemorySwarmRegistry registry;
  SignalHub hub;
  ConnectionLimits limits;
  ServerContext context;
  net::io_context io{1};
  std::optional<net::ssl::context> tls;
  tcp::acceptor acceptor;
  net::steady_timer sweep_timer;
  net::steady_timer grace_timer;
  net::signal_set signals;
  std::unique_ptr<RedisCluster> cluster;  // --redis: the other instances; destroyed first
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  uint64_t shutdown_deadline = 0;
};

SignalServer::SignalServer(ServerConfig config)
    : state_(std::make_unique<State>(std::move(config))) {}
SignalServer::~SignalServer() = default;

uint16_t SignalServer::start(std::string& error) {
  State& s = *state_;
  boost::system::error_code ec;
  if (s.config.tls()) {
    s.tls.emplace(net::ssl::context::tls_server);
    s.tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1);
    s.tls->use_certificate_chain_file(s.config.cert_file, ec);
    if (!ec) s.tls->use_private_key_file(s.config.key_file, net::ssl::context::pem, ec);
    if (ec) {
      error = "cannot load TLS certificate or key: " + ec.message();
      return 0;
    }
    s.context.tls = &*s.tls;
  }
  const auto address = net::ip::make_address(s.config.bind_address, ec);
  if (ec) {
    error = "bad --bind address: " + s.config.bind_address;
    return 0;
  }
  const tcp::endpoint endpoint(address, s.config.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + s.config.bind_address + ":" + std::to_string(s.config.port) +
            ": " + ec.message();
    return 0;
  }
  const uint16_t port = s.acceptor.local_endpoint().port();
  s.log.log(LogLevel::kInfo, "listening",
            {{"address", s.config.bind_address},
             {"port", std::to_string(port)},
             {"tls", s.config.tls() ? "on" : "off"},
             {"root", s.config.root}});
  s.accept();
  s.sweep();
  if (s.cluster) s.cluster->start();
  return port;
}

void SignalServer::run() {
  state_->io.run();
}

void SignalServer::request_shutdown() {
  net::post(state_->io, [s = state_.get()] { s->shutdown(); });
}

void SignalServer::handle_signals() {
  State& s = *state_;
  s.signals.add(SIGTERM);
  s.signals.add(SIGINT);
  s.signals.async_wait([&s](boost::system::error_code ec, int) {
    if (!ec) s.shutdown();
  });
}

}  // namespace p2pcdn::server
