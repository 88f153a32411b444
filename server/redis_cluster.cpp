#include "redis_cluster.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "signal_hub.hpp"

namespace p2pcdn::server {

namespace net = boost::asio;

namespace {

// Every key and channel starts with --redis-prefix (P below, "p2pcdn:" by default):
//   P alive:<instance>            "1", expires after --redis-ttl-ms unless refreshed
//   P instances                   set of instance ids that may have entries (alive or not reaped)
//   P h:<instance>:<tag><res>     hash: holders of a resource on that instance, peer id ->
//                                 "" (holds it) or "c" (claimed it, still fetching)
//   P k:<instance>                set of <tag><res> with a hash above, to delete them all
//   P p:<peer id>                 <instance><tag>: where a peer is connected, and its swarm
//   P c:<instance>                pub/sub channel of that instance (instance_messages.hpp)
// <instance> is 16 hex digits; <tag> (16 bytes), <res> (32) and <peer id> (16) are raw bytes.
// The scripts find keys from their arguments, so this needs one Redis, not a Redis Cluster.

// ARGV: P, me, ttl ms, retired instance or "". Returns {whether my key existed, dead ids}.
constexpr std::string_view kHeartbeatScript = R"lua(
local p, me = ARGV[1], ARGV[2]
local existed = redis.call('EXISTS', p .. 'alive:' .. me)
redis.call('SET', p .. 'alive:' .. me, '1', 'PX', ARGV[3])
redis.call('SADD', p .. 'instances', me)
if ARGV[4] ~= '' then redis.call('DEL', p .. 'alive:' .. ARGV[4]) end
local dead = {}
for _, inst in ipairs(redis.call('SMEMBERS', p .. 'instances')) do
  if redis.call('EXISTS', p .. 'alive:' .. inst) == 0 then dead[#dead + 1] = inst end
end
return {existed, dead}
)lua";

// ARGV: P, dead instance, batch. Deletes up to `batch` of its holder hashes; 1: more left,
// 0: done (and it is forgotten), 2: done by another instance, -1: it is alive after all.
constexpr std::string_view kReapScript = R"lua(
local p, inst = ARGV[1], ARGV[2]
if redis.call('EXISTS', p .. 'alive:' .. inst) == 1 then return -1 end
local index = p .. 'k:' .. inst
for _, suffix in ipairs(redis.call('SPOP', index, ARGV[3])) do
  redis.call('DEL', p .. 'h:' .. inst .. ':' .. suffix)
end
if redis.call('SCARD', index) > 0 then return 1 end
if redis.call('SREM', p .. 'instances', inst) == 1 then return 0 end
return 2
)lua";

// ARGV: P, me, peer, "" or "c", <tag><res>...
constexpr std::string_view kHoldScript = R"lua(
local p, me, peer, v = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local index = p .. 'k:' .. me
for i = 5, #ARGV do
  redis.call('HSET', p .. 'h:' .. me .. ':' .. ARGV[i], peer, v)
  redis.call('SADD', index, ARGV[i])
end
return 0
)lua";

// ARGV: P, me, peer, <tag><res>...
constexpr std::string_view kUnholdScript = R"lua(
local p, me, peer = ARGV[1], ARGV[2], ARGV[3]
local index = p .. 'k:' .. me
for i = 4, #ARGV do
  local key = p .. 'h:' .. me .. ':' .. ARGV[i]
  redis.call('HDEL', key, peer)
  if redis.call('EXISTS', key) == 0 then redis.call('SREM', index, ARGV[i]) end
end
return 0
)lua";

// ARGV: P, me, <tag><res>, count. For each other live instance holding the resource: its
// number of holders, then up to `count` of them at random with their values.
constexpr std::string_view kLookupScript = R"lua(
local p, me = ARGV[1], ARGV[2]
local out = {}
for _, inst in ipairs(redis.call('SMEMBERS', p .. 'instances')) do
  if inst ~= me and redis.call('EXISTS', p .. 'alive:' .. inst) == 1 then
    local key = p .. 'h:' .. inst .. ':' .. ARGV[3]
    local n = redis.call('HLEN', key)
    if n > 0 then
      out[#out + 1] = n
      out[#out + 1] = redis.call('HRANDFIELD', key, ARGV[4], 'WITHVALUES')
    end
  end
end
return out
)lua";

// ARGV: P, ttl ms, peer id...
constexpr std::string_view kRefreshScript = R"lua(
for i = 3, #ARGV do redis.call('PEXPIRE', ARGV[1] .. 'p:' .. ARGV[i], ARGV[2]) end
return 0
)lua";

// Ids per hold/unhold/refresh call, and hashes per reaping call: each call holds Redis for
// a fraction of a millisecond at most, so relays queued behind it barely wait.
constexpr size_t kIdsPerScript = 200;
constexpr uint32_t kRefreshTicks = 6;  // every peer's key refreshed once in 6 heartbeats (2 TTLs)
constexpr size_t kResyncPeersPerTurn = 256;  // then the next batch once Redis has done these
constexpr size_t kReapBatch = 200;
constexpr size_t kMaxRoutes = 65536;         // remote peers remembered; beyond, forgotten at once
constexpr size_t kMaxResolving = 4096;       // targets being looked up at once
constexpr size_t kMaxPendingPerTarget = 64;  // relays waiting for one target's lookup

std::string_view bytes_of(const PeerId& id) {
  return {reinterpret_cast<const char*>(id.data()), id.size()};
}

std::string suffix(const SwarmTag& swarm, const ResourceId& resource) {
  std::string s(reinterpret_cast<const char*>(swarm.data()), swarm.size());
  s.append(reinterpret_cast<const char*>(resource.data()), resource.size());
  return s;
}

bool is_string(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

}  // namespace

RedisCluster::RedisCluster(net::io_context& io, const ServerConfig& config, SignalHub& hub,
                           const SwarmRegistry& registry, Metrics& metrics, const Logger& log,
                           std::function<uint64_t()> now_ms)
    : io_(io),
      config_(config),
      hub_(hub),
      registry_(registry),
      metrics_(metrics),
      log_(log),
      now_ms_(std::move(now_ms)),
      address_(config.redis),
      // Refreshed every 2 TTLs (every sixth heartbeat), so 6 TTLs leave two refreshes to miss.
      peer_ttl_ms_(6 * config.redis_ttl_ms),
      retry_ms_(std::clamp<uint32_t>(config.redis_ttl_ms / 2, 100, 2000)),
      heartbeat_timer_(io),
      retry_timer_(io),
      stop_timer_(io) {
  metrics_.redis_configured = true;
}

RedisCluster::~RedisCluster() {
  phase_ = Phase::kStopped;
  teardown();
}

std::string RedisCluster::key(std::string_view kind, std::string_view name) const {
  std::string k = config_.redis_prefix;
  k += kind;
  k += name;
  return k;
}

std::string RedisCluster::peer_key(const PeerId& peer) const {
  return key("p:", bytes_of(peer));
}

std::string RedisCluster::channel(std::string_view instance) const {
  return key("c:", instance);
}

void RedisCluster::start() {
  connect();
}

void RedisCluster::connect() {
  phase_ = Phase::kConnecting;
  const uint64_t generation = ++generation_;
  commands_ = std::make_unique<RedisConnection>(io_);
  commands_->open(
      config_.redis_host, config_.redis_port, [this, generation] { on_commands_up(generation); },
      [this, generation](const std::string& why) {
        if (generation == generation_) lost(why);
      });
}

void RedisCluster::on_commands_up(uint64_t generation) {
  if (generation != generation_) return;
  subscription_ = std::make_unique<RedisConnection>(io_);
  subscription_->open(
      config_.redis_host, config_.redis_port,
      [this, generation] { on_subscription_up(generation); },
      [this, generation](const std::string& why) {
        if (generation == generation_) lost(why);
      });
}

void RedisCluster::on_subscription_up(uint64_t generation) {
  if (generation != generation_) return;
  // A new id at every connection: whatever Redis still holds under the old one (if it kept
  // its data) is retired and reaped like a dead instance's, and this one starts clean.
  if (!instance_.empty()) retired_instance_ = instance_;
  char id[kInstanceIdSize + 1];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(random_()));
  instance_ = id;
  subscription_->subscribe(
      channel(instance_), [this, generation] { on_subscribed(generation); },
      [this](std::string_view payload) { on_message(payload); });
}

void RedisCluster::on_subscribed(uint64_t generation) {
  if (generation != generation_ || phase_ != Phase::kConnecting) return;
  phase_ = Phase::kUp;
  metrics_.redis_up = 1;
  outage_told_ = false;
  heartbeat_confirmed_ = false;
  log_.log(LogLevel::kInfo, "redis_connected",
           {{"address", address_},
            {"instance", instance_},
            {"peers", std::to_string(peers_.size())},
            {"ttl_ms", std::to_string(config_.redis_ttl_ms)}});
  heartbeat();
  schedule_heartbeat();
  // Everything this instance holds, published again (Redis may have lost it, or hold it under
  // the retired id), in batches.
  ++metrics_.redis_resyncs;
  auto peers = std::make_shared<std::vector<PeerId>>();
  peers->reserve(peers_.size());
  for (const auto& [peer, swarm] : peers_) peers->push_back(peer);
  resync(generation, std::move(peers), 0);
}

void RedisCluster::resync(uint64_t generation, std::shared_ptr<std::vector<PeerId>> peers,
                          size_t from) {
  if (generation != generation_ || phase_ != Phase::kUp) return;
  const size_t to = std::min(peers->size(), from + kResyncPeersPerTurn);
  for (size_t i = from; i < to; ++i) {
    auto it = peers_.find((*peers)[i]);
    if (it == peers_.end()) continue;  // gone since: its leaving was told already
    publish_peer(it->first, it->second);
    const std::vector<ResourceId> held = registry_.held(it->first);
    if (!held.empty()) hold(it->first, it->second, held, false);
  }
  if (to < peers->size()) {
    // The next batch once Redis has done this one: heartbeats and the hub's own commands
    // are never stuck behind a whole instance's state.
    commands_->command({"PING"}, [this, generation, peers = std::move(peers),
                                  to](const redisReply* reply) mutable {
      if (reply == nullptr || generation != generation_) return;
      net::post(io_, [this, generation, peers = std::move(peers), to]() mutable {
        resync(generation, std::move(peers), to);
      });
    });
    return;
  }
  log_.log(LogLevel::kInfo, "redis_resynced",
           {{"instance", instance_}, {"peers", std::to_string(peers->size())}});
}

// Redis is unreachable, or stopped answering: serve alone, say so once, try again.
void RedisCluster::lost(const std::string& why) {
  if (phase_ == Phase::kStopping || phase_ == Phase::kStopped) return;
  const bool was_up = phase_ == Phase::kUp;
  teardown();
  metrics_.redis_up = 0;
  if (was_up || !outage_told_) {
    ++metrics_.redis_outages;
    outage_told_ = true;
    log_.log(LogLevel::kWarn, was_up ? "redis_lost" : "redis_unavailable",
             {{"address", address_},
              {"error", why},
              {"detail", "serving this instance's peers alone; retrying every " +
                             std::to_string(retry_ms_) + " ms"}});
  } else {
    log_.log(LogLevel::kDebug, "redis_retry_failed", {{"address", address_}, {"error", why}});
  }
  retry_timer_.expires_after(std::chrono::milliseconds(retry_ms_));
  retry_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && phase_ == Phase::kDown) connect();
  });
}

void RedisCluster::teardown() {
  ++generation_;
  // For good (the server is going away): callbacks run below leave the hub alone.
  phase_ = phase_ == Phase::kStopped ? Phase::kStopped : Phase::kDown;
  heartbeat_timer_.cancel();
  heartbeat_pending_ = false;
  heartbeat_misses_ = 0;
  auto commands = std::move(commands_);
  auto subscription = std::move(subscription_);
  // Pending callbacks run now, with no reply: lookups are answered with what this instance
  // has, relays waiting for a route are refused.
  commands.reset();
  subscription.reset();
  published_.clear();
  routes_.clear();
  auto resolving = std::move(resolving_);
  resolving_.clear();
  for (auto& [target, relays] : resolving) {
    for (auto& r : relays) refuse(r.sender, target, RelayOutcome::kUnknownPeer);
  }
  reaping_.clear();
}

void RedisCluster::stop() {
  if (phase_ == Phase::kStopping || phase_ == Phase::kStopped) return;
  retry_timer_.cancel();
  if (phase_ != Phase::kUp) {
    teardown();
    phase_ = Phase::kStopped;
    metrics_.redis_up = 0;
    return;
  }
  // The hub has closed its peers already, which retracted their holders; the heartbeat key
  // goes last, so the others stop asking this instance at once, and what is left (nothing,
  // unless a retraction failed) is reaped.
  phase_ = Phase::kStopping;
  heartbeat_timer_.cancel();
  auto finish = [this] {
    if (phase_ != Phase::kStopping) return;
    stop_timer_.cancel();
    teardown();
    phase_ = Phase::kStopped;
    metrics_.redis_up = 0;
  };
  commands_->command({"DEL", key("alive:", instance_)});
  commands_->command({"EVAL", kReapScript, "0", config_.redis_prefix, instance_, "1000000"},
                     [this, finish](const redisReply*) { net::post(io_, finish); });
  stop_timer_.expires_after(std::chrono::milliseconds(1000));
  stop_timer_.async_wait([finish](boost::system::error_code ec) {
    if (!ec) finish();
  });
}

void RedisCluster::schedule_heartbeat() {
  heartbeat_timer_.expires_after(std::chrono::milliseconds(config_.redis_ttl_ms / 3));
  heartbeat_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || phase_ != Phase::kUp) return;
    heartbeat();
    if (phase_ != Phase::kUp) return;
    refresh_peer_keys(++ticks_ % kRefreshTicks);
    schedule_heartbeat();
  });
}

// Refreshes this instance's key and learns which instances are gone. A heartbeat still
// unanswered two periods later means Redis is not answering: that counts as lost.
void RedisCluster::heartbeat() {
  if (heartbeat_pending_) {
    if (++heartbeat_misses_ >= 2) {
      lost("no answer from Redis for " + std::to_string(2 * config_.redis_ttl_ms / 3) + " ms");
    }
    return;
  }
  heartbeat_pending_ = true;
  const uint64_t generation = generation_;
  const std::string ttl = std::to_string(config_.redis_ttl_ms);
  commands_->command(
      {"EVAL", kHeartbeatScript, "0", config_.redis_prefix, instance_, ttl, retired_instance_},
      [this, generation](const redisReply* reply) {
        if (generation != generation_ || phase_ != Phase::kUp) return;
        heartbeat_pending_ = false;
        heartbeat_misses_ = 0;
        check_reply(reply, "heartbeat");
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return;
        retired_instance_.clear();
        const bool existed = reply->element[0]->integer == 1;
        if (!existed && heartbeat_confirmed_) {
          // This instance's key expired (the thread stalled longer than the TTL): the others
          // may have reaped its holders. Start over under a new id.
          log_.log(LogLevel::kWarn, "redis_instance_expired",
                   {{"instance", instance_}, {"ttl_ms", std::to_string(config_.redis_ttl_ms)}});
          net::post(io_, [this, generation] {
            if (generation == generation_) lost("this instance's key expired");
          });
          return;
        }
        heartbeat_confirmed_ = true;
        const redisReply* dead = reply->element[1];
        if (dead->type != REDIS_REPLY_ARRAY) return;
        std::unordered_set<std::string> gone;
        for (size_t i = 0; i < dead->elements; ++i) {
          if (!is_string(dead->element[i])) continue;
          std::string instance(dead->element[i]->str, dead->element[i]->len);
          reap(instance);
          gone.insert(std::move(instance));
        }
        // Routes to peers of instances that are gone (or retired their id) are stale.
        if (!gone.empty()) {
          for (auto it = routes_.begin(); it != routes_.end();) {
            it = gone.count(it->second.instance) != 0 ? routes_.erase(it) : std::next(it);
          }
        }
      });
}

// A dead instance's holders are never handed out (lookups skip instances without a live
// key); this deletes them, a batch at a time, by whichever instances see it first.
void RedisCluster::reap(const std::string& instance) {
  if (phase_ != Phase::kUp || !reaping_.insert(instance).second) return;
  const uint64_t generation = generation_;
  commands_->command(
      {"EVAL", kReapScript, "0", config_.redis_prefix, instance, std::to_string(kReapBatch)},
      [this, generation, instance](const redisReply* reply) {
        if (generation != generation_ || phase_ != Phase::kUp) return;
        check_reply(reply, "reap");
        reaping_.erase(instance);
        if (reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
          reap(instance);
        } else if (reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
          log_.log(LogLevel::kInfo, "redis_instance_reaped", {{"instance", instance}});
        }
      });
}

// A sixth of the peers at each heartbeat (by their ids' first bytes), so the refreshes are
// spread out instead of all landing on Redis at once.
void RedisCluster::refresh_peer_keys(uint32_t share) {
  const std::string ttl = std::to_string(peer_ttl_ms_);
  std::vector<std::string_view> args;
  auto flush = [&] {
    if (args.size() > 5) commands_->command(args);
    args = {"EVAL", kRefreshScript, "0", config_.redis_prefix, ttl};
  };
  flush();
  const IdHash hash;
  for (const auto& [peer, swarm] : peers_) {
    if (hash(peer) % kRefreshTicks != share) continue;
    args.push_back(bytes_of(peer));
    if (args.size() >= 5 + kIdsPerScript) flush();
  }
  flush();
}

void RedisCluster::check_reply(const redisReply* reply, const char* what) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) return;
  ++metrics_.redis_errors;
  // Counted every time, logged at the first and then at every 1000th.
  if (metrics_.redis_errors % 1000 == 1) {
    log_.log(LogLevel::kWarn, "redis_error",
             {{"command", what},
              {"error", std::string(reply->str, reply->len)},
              {"errors", std::to_string(metrics_.redis_errors)}});
  }
}

void RedisCluster::publish_peer(const PeerId& peer, const SwarmTag& swarm) {
  std::string where = instance_;
  where.append(reinterpret_cast<const char*>(swarm.data()), swarm.size());
  commands_->command({"SET", peer_key(peer), where, "PX", std::to_string(peer_ttl_ms_)});
}

void RedisCluster::hold(const PeerId& peer, const SwarmTag& swarm,
                        const std::vector<ResourceId>& ids, bool claim) {
  for (size_t from = 0; from < ids.size(); from += kIdsPerScript) {
    const size_t to = std::min(ids.size(), from + kIdsPerScript);
    std::vector<std::string> suffixes;
    suffixes.reserve(to - from);
    for (size_t i = from; i < to; ++i) suffixes.push_back(suffix(swarm, ids[i]));
    std::vector<std::string_view> args{
        "EVAL",         kHoldScript,     "0", config_.redis_prefix, instance_,
        bytes_of(peer), claim ? "c" : ""};
    args.insert(args.end(), suffixes.begin(), suffixes.end());
    commands_->command(args, [this](const redisReply* reply) { check_reply(reply, "hold"); });
  }
}

void RedisCluster::unhold(const PeerId& peer, const SwarmTag& swarm,
                          const std::vector<ResourceId>& ids) {
  for (size_t from = 0; from < ids.size(); from += kIdsPerScript) {
    const size_t to = std::min(ids.size(), from + kIdsPerScript);
    std::vector<std::string> suffixes;
    suffixes.reserve(to - from);
    for (size_t i = from; i < to; ++i) suffixes.push_back(suffix(swarm, ids[i]));
    std::vector<std::string_view> args{"EVAL",    kUnholdScript, "0", config_.redis_prefix,
                                       instance_, bytes_of(peer)};
    args.insert(args.end(), suffixes.begin(), suffixes.end());
    commands_->command(args, [this](const redisReply* reply) { check_reply(reply, "unhold"); });
  }
}

void RedisCluster::joined(const PeerId& peer, const std::string& swarm) {
  const SwarmTag tag = swarm_tag(swarm);
  peers_[peer] = tag;
  if (phase_ == Phase::kUp) publish_peer(peer, tag);
}

void RedisCluster::left(const PeerId& peer, const std::vector<ResourceId>& held) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  if (phase_ == Phase::kUp) {
    if (!held.empty()) unhold(peer, it->second, held);
    commands_->command({"DEL", peer_key(peer)});
  }
  peers_.erase(it);
}

void RedisCluster::announced(const PeerId& peer, const std::vector<ResourceId>& ids, bool claim) {
  auto it = peers_.find(peer);
  if (phase_ == Phase::kUp && it != peers_.end()) hold(peer, it->second, ids, claim);
}

void RedisCluster::withdrawn(const PeerId& peer, const std::vector<ResourceId>& ids) {
  auto it = peers_.find(peer);
  if (phase_ == Phase::kUp && it != peers_.end()) unhold(peer, it->second, ids);
}

void RedisCluster::lookup(const PeerId& asker, const ResourceId& resource, size_t count,
                          LookupDone done) {
  auto it = peers_.find(asker);
  if (phase_ != Phase::kUp || it == peers_.end() || count == 0) {
    net::post(io_, [this, done = std::move(done)] { done({}, now_ms_()); });
    return;
  }
  const std::string how_many = std::to_string(count);
  commands_->command(
      {"EVAL", kLookupScript, "0", config_.redis_prefix, instance_, suffix(it->second, resource),
       how_many},
      [this, count, done = std::move(done)](const redisReply* reply) {
        if (phase_ == Phase::kStopped) return;  // the server is going away
        check_reply(reply, "lookup");
        std::vector<RemoteHolder> found;
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
          done(std::move(found), now_ms_());
          return;
        }
        // Per instance: how many holders it has, and a random sample of them. Drawing from
        // each in proportion to what it has left makes one uniform sample of all of them.
        struct Instance {
          uint64_t left = 0;
          std::vector<RemoteHolder> sample;
          size_t next = 0;
        };
        std::vector<Instance> instances;
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
          const redisReply* n = reply->element[i];
          const redisReply* fields = reply->element[i + 1];
          if (n->type != REDIS_REPLY_INTEGER || fields->type != REDIS_REPLY_ARRAY) continue;
          Instance instance;
          instance.left = static_cast<uint64_t>(n->integer);
          for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            const redisReply* peer = fields->element[f];
            const redisReply* value = fields->element[f + 1];
            if (!is_string(peer) || peer->len != 16) continue;
            RemoteHolder holder;
            std::memcpy(holder.peer.data(), peer->str, 16);
            holder.claimant = is_string(value) && value->len == 1 && value->str[0] == 'c';
            instance.sample.push_back(holder);
          }
          if (!instance.sample.empty()) instances.push_back(std::move(instance));
        }
        while (found.size() < count) {
          uint64_t total = 0;
          for (const Instance& in : instances)
            if (in.next < in.sample.size()) total += in.left;
          if (total == 0) break;
          uint64_t pick = std::uniform_int_distribution<uint64_t>(0, total - 1)(random_);
          for (Instance& in : instances) {
            if (in.next >= in.sample.size()) continue;
            if (pick >= in.left) {
              pick -= in.left;
              continue;
            }
            const RemoteHolder& holder = in.sample[in.next++];
            --in.left;
            const bool seen = std::any_of(found.begin(), found.end(), [&](const RemoteHolder& h) {
              return h.peer == holder.peer;
            });
            if (!seen) found.push_back(holder);
            break;
          }
        }
        done(std::move(found), now_ms_());
      });
}

void RedisCluster::relay(const PeerId& sender, const PeerId& target, std::vector<uint8_t> message) {
  auto from = peers_.find(sender);
  if (phase_ != Phase::kUp || from == peers_.end()) {
    refuse(sender, target, RelayOutcome::kUnknownPeer);
    return;
  }
  // Relays for a target whose route is being looked up queue behind the first: one pair's
  // relays keep their order.
  auto waiting = resolving_.find(target);
  if (waiting != resolving_.end()) {
    if (waiting->second.size() >= kMaxPendingPerTarget) {
      refuse(sender, target, RelayOutcome::kTargetBusy);
      return;
    }
    waiting->second.push_back({sender, std::move(message)});
    return;
  }
  auto route = routes_.find(target);
  if (route != routes_.end()) {
    publish_relay(sender, from->second, target, route->second, message);
    return;
  }
  if (resolving_.size() >= kMaxResolving) {
    refuse(sender, target, RelayOutcome::kTargetBusy);
    return;
  }
  resolving_[target].push_back({sender, std::move(message)});
  const uint64_t generation = generation_;
  commands_->command(
      {"GET", peer_key(target)}, [this, generation, target](const redisReply* reply) {
        auto node = resolving_.extract(target);
        if (node.empty() || phase_ == Phase::kStopped) return;
        check_reply(reply, "route");
        const bool found = generation == generation_ && phase_ == Phase::kUp && is_string(reply) &&
                           reply->len == kInstanceIdSize + 16;
        if (!found) {
          for (const PendingRelay& r : node.mapped())
            refuse(r.sender, target, RelayOutcome::kUnknownPeer);
          return;
        }
        Route route;
        route.instance.assign(reply->str, kInstanceIdSize);
        std::memcpy(route.swarm.data(), reply->str + kInstanceIdSize, route.swarm.size());
        if (routes_.size() >= kMaxRoutes) routes_.clear();
        routes_[target] = route;
        for (const PendingRelay& r : node.mapped()) {
          auto from = peers_.find(r.sender);
          if (from == peers_.end()) continue;  // the sender has gone since
          publish_relay(r.sender, from->second, target, route, r.message);
        }
      });
}

void RedisCluster::publish_relay(const PeerId& sender, const SwarmTag& swarm, const PeerId& target,
                                 const Route& route, const std::vector<uint8_t>& message) {
  // Another swarm's peer, or one that was this instance's and has left: as unknown as a
  // local peer that is not there.
  if (route.swarm != swarm || route.instance == instance_) {
    refuse(sender, target, RelayOutcome::kUnknownPeer);
    return;
  }
  const std::string payload = encode_instance_relay(instance_, swarm, target, ByteView(message));
  published_.emplace_back(sender, target);
  if (!commands_->command({"PUBLISH", channel(route.instance), payload}, &on_published, this)) {
    published_.pop_back();
    refuse(sender, target, RelayOutcome::kUnknownPeer);
  }
}

// PUBLISH answers how many subscribers got the message: none means the instance named in the
// route is not there any more.
void RedisCluster::on_published(redisAsyncContext*, void* r, void* privdata) {
  auto* self = static_cast<RedisCluster*>(privdata);
  if (self->published_.empty()) return;
  const auto [sender, target] = self->published_.front();
  self->published_.pop_front();
  const auto* reply = static_cast<const redisReply*>(r);
  self->check_reply(reply, "publish");
  if (reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
    self->routes_.erase(target);
    self->refuse(sender, target, RelayOutcome::kUnknownPeer);
  }
}

void RedisCluster::refuse(const PeerId& sender, const PeerId& target, RelayOutcome why) {
  if (phase_ == Phase::kStopped) return;
  hub_.remote_relay_refused(sender, target, why, now_ms_());
}

void RedisCluster::on_message(std::string_view payload) {
  if (phase_ != Phase::kUp) return;
  auto message = decode_instance_message(payload);
  if (!message) {
    ++metrics_.redis_errors;
    log_.log(LogLevel::kDebug, "instance_message_malformed",
             {{"bytes", std::to_string(payload.size())}});
    return;
  }
  if (auto* relay = std::get_if<InstanceRelay>(&*message)) {
    auto it = peers_.find(relay->target);
    const RelayOutcome outcome =
        it == peers_.end() || it->second != relay->swarm
            ? RelayOutcome::kUnknownPeer
            : hub_.deliver_remote_relay(relay->target, relay->message, now_ms_());
    if (outcome == RelayOutcome::kDelivered) return;
    PeerId sender{};
    std::memcpy(sender.data(), relay->message.data + 8, sender.size());
    commands_->command({"PUBLISH", channel(relay->from_instance),
                        encode_relay_refused(sender, relay->target, outcome)});
    return;
  }
  const auto& refused = std::get<InstanceRelayRefused>(*message);
  if (refused.reason == RelayOutcome::kUnknownPeer) routes_.erase(refused.target);
  hub_.remote_relay_refused(refused.sender, refused.target, refused.reason, now_ms_());
}

}  // namespace p2pcdn::server
