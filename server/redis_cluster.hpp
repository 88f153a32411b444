// Several p2pcdn-server instances acting as one, through Redis (--redis). Each instance
// keeps its own peers and their holdings in its MemorySwarmRegistry, as a single instance
// does, and mirrors them in Redis under its own instance id, so that the others can find
// them: holders by resource, the instance each peer is connected to, and a heartbeat key
// whose expiry says the instance is gone. Relays for a peer of another instance go to that
// instance's own pub/sub channel. docs/deployment.md says what Redis holds and how much;
// docs/protocol.md ("Between instances") gives the messages.
//
// Nothing here is on the path of a relay or lookup that this instance can answer alone, and
// nothing blocks the I/O thread (hiredis's async API, redis_connection.hpp). When Redis is
// unreachable, at start or later, the instance says so once (log, p2pcdn_redis_up) and
// serves its own peers alone; when Redis is back it starts over under a new instance id and
// publishes everything it holds again.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cluster.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "redis_connection.hpp"
#include "server_config.hpp"
#include "swarm_registry.hpp"

namespace p2pcdn::server {

class SignalHub;

class RedisCluster : public Cluster {
 public:
  RedisCluster(boost::asio::io_context& io, const ServerConfig& config, SignalHub& hub,
               const SwarmRegistry& registry, Metrics& metrics, const Logger& log,
               std::function<uint64_t()> now_ms);
  ~RedisCluster() override;
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // Starts connecting; the instance serves its own peers from the start either way.
  void start();
  // Shutting down: this instance's heartbeat key is deleted (the others stop handing out its
  // holders at once), then the connections close. stopped() says when that is done.
  void stop();
  bool stopped() const { return phase_ == Phase::kStopped; }

  bool active() const override { return phase_ == Phase::kUp; }
  void joined(const PeerId& peer, const std::string& swarm) override;
  void left(const PeerId& peer, const std::vector<ResourceId>& held) override;
  void announced(const PeerId& peer, const std::vector<ResourceId>& ids, bool claim) override;
  void withdrawn(const PeerId& peer, const std::vector<ResourceId>& ids) override;
  void lookup(const PeerId& asker, const ResourceId& resource, size_t count,
              LookupDone done) override;
  void relay(const PeerId& sender, const PeerId& target, std::vector<uint8_t> message) override;

 private:
  enum class Phase { kDown, kConnecting, kUp, kStopping, kStopped };
  // Where a peer of another instance is, learnt from Redis. A peer id never moves: a peer
  // that reconnects, to any instance, gets a new one.
  struct Route {
    std::string instance;
    SwarmTag swarm{};
  };
  struct PendingRelay {
    PeerId sender{};
    std::vector<uint8_t> message;
  };

  void connect();
  void on_commands_up(uint64_t generation);
  void on_subscription_up(uint64_t generation);
  void on_subscribed(uint64_t generation);
  void lost(const std::string& why);
  void teardown();
  void schedule_heartbeat();
  void heartbeat();
  void refresh_peer_keys(uint32_t share);
  void reap(const std::string& instance);
  void resync(uint64_t generation, std::shared_ptr<std::vector<PeerId>> peers, size_t from);
  void publish_peer(const PeerId& peer, const SwarmTag& swarm);
  void hold(const PeerId& peer, const SwarmTag& swarm, const std::vector<ResourceId>& ids,
            bool claim);
  void unhold(const PeerId& peer, const SwarmTag& swarm, const std::vector<ResourceId>& ids);
  void publish_relay(const PeerId& sender, const SwarmTag& swarm, const PeerId& target,
                     const Route& route, const std::vector<uint8_t>& message);
  void refuse(const PeerId& sender, const PeerId& target, RelayOutcome why);
  void on_message(std::string_view payload);
  void check_reply(const redisReply* reply, const char* what);
  static void on_published(redisAsyncContext* context, void* reply, void* privdata);

  std::string key(std::string_view kind, std::string_view name) const;
  std::string peer_key(const PeerId& peer) const;
  std::string channel(std::string_view instance) const;

  boost::asio::io_context& io_;
  const ServerConfig& config_;
  SignalHub& hub_;
  const SwarmRegistry& registry_;
  Metrics& metrics_;
  const Logger& log_;
  std::function<uint64_t()> now_ms_;
  const std::string address_;  // host:port, for the log
  const uint32_t peer_ttl_ms_;
  const uint32_t retry_ms_;

  Phase phase_ = Phase::kDown;
  uint64_t generation_ = 0;  // one per connection attempt: late callbacks of older ones are ignored
  std::unique_ptr<RedisConnection> commands_;
  std::unique_ptr<RedisConnection> subscription_;  // SUBSCRIBEd to this instance's channel
  std::string instance_;                           // this incarnation's id; new at each connection
  std::string retired_instance_;                   // the one before, retired at the first heartbeat
  bool outage_told_ = false;                       // the current outage has been logged
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer stop_timer_;
  bool heartbeat_pending_ = false;
  bool heartbeat_confirmed_ = false;  // this incarnation's key has been seen in Redis
  uint32_t heartbeat_misses_ = 0;
  uint32_t ticks_ = 0;

  std::unordered_map<PeerId, SwarmTag, IdHash> peers_;  // joined peers of this instance
  std::unordered_map<PeerId, Route, IdHash> routes_;
  std::unordered_map<PeerId, std::vector<PendingRelay>, IdHash> resolving_;  // by target
  std::deque<std::pair<PeerId, PeerId>> published_;  // (sender, target) per PUBLISH unanswered
  std::unordered_set<std::string> reaping_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace p2pcdn::server
