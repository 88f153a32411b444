// Several p2pcdn-server instances acting as one through Redis (--redis), as real processes
// on loopback: a redis-server of the test's own on a free port, and three instances. Every
// wait is bounded; every process is ended by its PID (ChildProcess).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kRedisServer = "/usr/bin/redis-server";
constexpr const char* kRedisCli = "/usr/bin/redis-cli";
// Instances refresh their key every third of this: one killed is out of lookups within it.
constexpr int kTtlMs = 600;
constexpr int kStartMs = 5000;  // for a process to start (ASan builds included)

int ms_since(Clock::time_point start) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// A port nobody listens on now (the kernel's pick for an ephemeral bind).
uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  close(fd);
  return port;
}

// redis-server on loopback, without persistence: stopping it loses everything it held.
class Redis {
 public:
  explicit Redis(uint16_t port) : port_(port) {}
  bool start() {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kRedisServer, "--port", std::to_string(port_), "--bind",
                                 "127.0.0.1", "--save", "", "--appendonly", "no"});
    return process_->wait_for("Ready to accept connections", kStartMs);
  }
  void stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    process_->wait_exit(kStartMs);
    process_.reset();
  }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // How many keys match `pattern` (their names hold raw bytes, newlines included), or -1.
  long count_keys(const std::string& pattern) const {
    const Finished done = run_to_exit({kRedisCli, "-p", std::to_string(port_), "EVAL",
                                       "return #redis.call('KEYS', ARGV[1])", "0", pattern},
                                      kStartMs);
    return done.exit_code == 0 && !done.out.empty() ? std::stol(done.out) : -1;
  }

 private:
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

// p2pcdn-server with --redis.
class Instance {
 public:
  explicit Instance(const std::string& redis, int ttl_ms = kTtlMs) {
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        P2PCDN_SERVER_BINARY, "--bind", "127.0.0.1", "--port", "0", "--redis", redis,
        "--redis-ttl-ms", std::to_string(ttl_ms), "--shutdown-grace-ms", "1000"});
    port_ = process_->listening_port(kStartMs);
  }
  uint16_t port() const { return port_; }
  bool wait_for(const std::string& text, int ms = kStartMs) { return process_->wait_for(text, ms); }
  // Its id in Redis, from the last "redis_connected" line.
  std::string instance_id() {
    const std::string& log = process_->err();
    const size_t line = log.rfind("event=redis_connected");
    const size_t at = log.find(" instance=", line);
    return line == std::string::npos || at == std::string::npos ? "" : log.substr(at + 10, 16);
  }
  size_t count(const std::string& text) {
    process_->wait_for("\x01", 50);  // reads what has come so far
    const std::string& log = process_->err();
    size_t n = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  }
  // The value of an unlabelled metric, or -1.
  long metric(const std::string& name) const {
    const HttpReply reply = http_get(port_, "/metrics");
    const size_t at = reply.text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stol(reply.text.substr(at + name.size() + 2));
  }
  bool wait_metric(const std::string& name, long value, int ms = kStartMs) {
    const auto start = Clock::now();
    while (metric(name) != value) {
      if (ms_since(start) > ms) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  void kill() {
    process_->signal(SIGKILL);
    process_->wait_exit(kStartMs);
  }
  int stop() {
    process_->signal(SIGTERM);
    return process_->wait_exit(kStartMs);
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
};

// Test clients join this site (the Origin they send).
constexpr const char* kSite = kTestOrigin;

// The next message of type T, skipping others; nothing if none came within `ms`.
template <class T>
std::optional<T> next(WsClient& client, int ms = kWaitMs) {
  const auto start = Clock::now();
  while (ms_since(start) < ms) {
    auto m = client.read(ms - ms_since(start));
    if (!m) return std::nullopt;
    if (auto* wanted = std::get_if<T>(&*m)) return *wanted;
  }
  return std::nullopt;
}

std::optional<Peers> lookup(WsClient& client, const ResourceId& resource, uint32_t id,
                            uint8_t flags = 0) {
  client.send(Lookup{id, resource, 20, flags});
  const auto start = Clock::now();
  while (ms_since(start) < kWaitMs) {
    auto peers = next<Peers>(client, kWaitMs - ms_since(start));
    if (!peers || peers->lookup_id == id) return peers;
  }
  return std::nullopt;
}

bool lists(const std::optional<Peers>& peers, const PeerId& peer) {
  return peers && std::find(peers->peers.begin(), peers->peers.end(), peer) != peers->peers.end();
}

// Lookups until `peer` is listed (announcements reach Redis a moment after they are made).
bool found_within(WsClient& client, const ResourceId& resource, const PeerId& peer, int ms) {
  static uint32_t id = 1000;
  const auto start = Clock::now();
  while (ms_since(start) < ms) {
    if (lists(lookup(client, resource, ++id), peer)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A relay from `from` reaches `to` with `from`'s id, and back.
void expect_offer_and_answer(WsClient& a, const PeerId& a_id, WsClient& b, const PeerId& b_id) {
  b.send(Relay{a_id, RelayKind::kOffer, "v=0 offer from b"});
  auto offer = next<Relay>(a);
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->peer, b_id);
  EXPECT_EQ(offer->kind, RelayKind::kOffer);
  EXPECT_EQ(offer->payload, "v=0 offer from b");
  a.send(Relay{b_id, RelayKind::kAnswer, "v=0 answer from a"});
  auto answer = next<Relay>(b);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->peer, a_id);
  EXPECT_EQ(answer->kind, RelayKind::kAnswer);
  EXPECT_EQ(answer->payload, "v=0 answer from a");
}

void expect_unknown_peer(WsClient& client, const PeerId& target) {
  client.send(Relay{target, RelayKind::kOffer, "v=0"});
  auto error = next<SignalError>(client);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, static_cast<uint16_t>(SignalErrorCode::kUnknownPeer));
}

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kRedisServer, X_OK), 0)
        << kRedisServer << " is missing: scripts/setup.sh installs redis-server";
    redis_ = std::make_unique<Redis>(free_port());
    ASSERT_TRUE(redis_->start());
  }
  // Three instances, each connected to Redis.
  void start_instances(size_t n = 3) {
    for (size_t i = 0; i < n; ++i) {
      instances_.push_back(std::make_unique<Instance>(redis_->address()));
      ASSERT_NE(instances_.back()->port(), 0);
      ASSERT_TRUE(instances_.back()->wait_for("event=redis_connected"));
    }
  }
  Instance& instance(size_t i) { return *instances_[i]; }

  std::unique_ptr<Redis> redis_;
  std::vector<std::unique_ptr<Instance>> instances_;
};

TEST_F(ScaleOut, ClientsOnDifferentInstancesFindEachOtherAndRelayInOrder) {
  start_instances();
  WsClient x, y, stranger;
  ASSERT_TRUE(x.connect(instance(0).port()));
  ASSERT_TRUE(y.connect(instance(1).port()));
  ASSERT_TRUE(stranger.connect(instance(2).port()));
  const PeerId x_id = x.join(kSite);
  const PeerId y_id = y.join(kSite);
  const PeerId stranger_id = stranger.join(kSite, "another swarm key");
  x.send(Announce{{resource(7)}});
  ASSERT_TRUE(x.sync());
  // Found from another instance; the asker is never listed, and PEERS says nothing more.
  ASSERT_TRUE(found_within(y, resource(7), x_id, 2000));
  auto peers = lookup(y, resource(7), 1);
  ASSERT_TRUE(peers);
  EXPECT_EQ(peers->peers, std::vector<PeerId>{x_id});
  EXPECT_EQ(peers->flags, 0);
  expect_offer_and_answer(x, x_id, y, y_id);
  // Candidates arrive in the order sent.
  for (int i = 0; i < 30; ++i) y.send(Relay{x_id, RelayKind::kCandidate, "c" + std::to_string(i)});
  for (int i = 0; i < 30; ++i) {
    auto candidate = next<Relay>(x);
    ASSERT_TRUE(candidate);
    EXPECT_EQ(candidate->payload, "c" + std::to_string(i));
    EXPECT_EQ(candidate->peer, y_id);
  }
  // Swarms stay apart across instances too.
  auto other = lookup(stranger, resource(7), 2);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->peers.empty());
  expect_unknown_peer(stranger, x_id);
  expect_unknown_peer(y, stranger_id);
  EXPECT_GE(instance(1).metric("p2pcdn_remote_relays_sent_total"), 31);
  EXPECT_GE(instance(0).metric("p2pcdn_remote_relays_received_total"), 31);
  EXPECT_EQ(instance(1).metric("p2pcdn_redis_up"), 1);
}

TEST_F(ScaleOut, LocalHoldersComeFirstAndOthersFillTheAnswer) {
  start_instances(2);
  WsClient local, remote, asker;
  ASSERT_TRUE(local.connect(instance(0).port()));
  ASSERT_TRUE(remote.connect(instance(1).port()));
  ASSERT_TRUE(asker.connect(instance(0).port()));
  const PeerId local_id = local.join(kSite);
  const PeerId remote_id = remote.join(kSite);
  asker.join(kSite);
  local.send(Announce{{resource(3)}});
  remote.send(Announce{{resource(3)}});
  ASSERT_TRUE(local.sync());
  ASSERT_TRUE(remote.sync());
  ASSERT_TRUE(found_within(asker, resource(3), remote_id, 2000));
  auto both = lookup(asker, resource(3), 5);
  EXPECT_TRUE(lists(both, local_id));
  EXPECT_TRUE(lists(both, remote_id));
  // Asked for one: the holder on the same instance.
  asker.send(Lookup{6, resource(3), 1});
  auto one = next<Peers>(asker);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->peers, std::vector<PeerId>{local_id});
  // A claim lookup finds the other instance's holder: nothing is claimed.
  WsClient late;
  ASSERT_TRUE(late.connect(instance(0).port()));
  late.join(kSite);
  local.send(Withdraw{{resource(3)}});
  ASSERT_TRUE(local.sync());
  auto claimed = lookup(late, resource(3), 7, kLookupClaim);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->peers, std::vector<PeerId>{remote_id});
  EXPECT_EQ(claimed->flags, 0);
}

TEST_F(ScaleOut, AKilledInstanceLeavesNoStaleHoldersBeyondItsTtl) {
  start_instances();
  WsClient doomed, asker;
  ASSERT_TRUE(doomed.connect(instance(2).port()));
  ASSERT_TRUE(asker.connect(instance(0).port()));
  const PeerId doomed_id = doomed.join(kSite);
  asker.join(kSite);
  doomed.send(Announce{{resource(9), resource(10)}});
  ASSERT_TRUE(doomed.sync());
  ASSERT_TRUE(found_within(asker, resource(9), doomed_id, 2000));
  const std::string doomed_instance = instance(2).instance_id();
  ASSERT_EQ(doomed_instance.size(), 16u);
  EXPECT_GT(redis_->count_keys("p2pcdn:h:" + doomed_instance + ":*"), 0);

  instance(2).kill();
  const auto killed = Clock::now();
  int gone_after_ms = -1;
  while (ms_since(killed) < 5 * kTtlMs) {
    if (!lists(lookup(asker, resource(9), 100), doomed_id)) {
      gone_after_ms = ms_since(killed);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Its key was refreshed at most a third of the TTL before the kill and expires a TTL after
  // that: the bound is the TTL (plus the lookup's own time on a busy machine).
  ASSERT_GE(gone_after_ms, 0) << "holders of the killed instance still listed";
  EXPECT_LE(gone_after_ms, kTtlMs + 400);
  // Never listed again, and a relay to it is refused at once.
  auto later = lookup(asker, resource(10), 101);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->peers.empty());
  expect_unknown_peer(asker, doomed_id);
  // The survivors delete what it left in Redis.
  const auto reaping = Clock::now();
  while (redis_->count_keys("p2pcdn:h:" + doomed_instance + ":*") != 0 && ms_since(reaping) < 3000)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(redis_->count_keys("p2pcdn:h:" + doomed_instance + ":*"), 0);
  EXPECT_EQ(redis_->count_keys("p2pcdn:k:" + doomed_instance), 0);
  EXPECT_EQ(redis_->count_keys("p2pcdn:alive:" + doomed_instance), 0);
}

TEST_F(ScaleOut, AStoppedInstanceRetractsEverythingAtOnce) {
  start_instances(1);
  // A long TTL: only its own retraction can take its holders out in time.
  Instance leaving(redis_->address(), 10000);
  ASSERT_TRUE(leaving.wait_for("event=redis_connected"));
  const std::string leaving_instance = leaving.instance_id();
  WsClient x, asker;
  ASSERT_TRUE(x.connect(leaving.port()));
  ASSERT_TRUE(asker.connect(instance(0).port()));
  const PeerId x_id = x.join(kSite);
  asker.join(kSite);
  x.send(Announce{{resource(11), resource(12)}});
  ASSERT_TRUE(x.sync());
  ASSERT_TRUE(found_within(asker, resource(11), x_id, 2000));
  EXPECT_EQ(leaving.stop(), 0);
  auto peers = lookup(asker, resource(11), 1);
  ASSERT_TRUE(peers);
  EXPECT_TRUE(peers->peers.empty());
  EXPECT_EQ(redis_->count_keys("p2pcdn:*" + leaving_instance + "*"), 0);
  EXPECT_EQ(redis_->count_keys("p2pcdn:p:*"), 1);  // the asker's
}

TEST_F(ScaleOut, AClientThatMovesToAnotherInstanceIsFoundThere) {
  start_instances();
  WsClient asker;
  ASSERT_TRUE(asker.connect(instance(2).port()));
  const PeerId asker_id = asker.join(kSite);
  PeerId before{};
  {
    WsClient mover;
    ASSERT_TRUE(mover.connect(instance(0).port()));
    before = mover.join(kSite);
    mover.send(Announce{{resource(4)}});
    ASSERT_TRUE(mover.sync());
    ASSERT_TRUE(found_within(asker, resource(4), before, 2000));
    mover.send(Leave{});
    mover.wait_close();
  }
  WsClient moved;
  ASSERT_TRUE(moved.connect(instance(1).port()));
  const PeerId after = moved.join(kSite);
  moved.send(Announce{{resource(4)}});
  ASSERT_TRUE(moved.sync());
  ASSERT_TRUE(found_within(asker, resource(4), after, 2000));
  auto peers = lookup(asker, resource(4), 1);
  ASSERT_TRUE(peers);
  EXPECT_EQ(peers->peers, std::vector<PeerId>{after});
  expect_offer_and_answer(moved, after, asker, asker_id);
  expect_unknown_peer(asker, before);
}

TEST_F(ScaleOut, RedisStoppedAndRestartedLocalServiceGoesOnThenInstancesMeetAgain) {
  start_instances(2);
  WsClient x, y;
  ASSERT_TRUE(x.connect(instance(0).port()));
  ASSERT_TRUE(y.connect(instance(1).port()));
  const PeerId x_id = x.join(kSite);
  const PeerId y_id = y.join(kSite);
  x.send(Announce{{resource(5)}});
  ASSERT_TRUE(x.sync());
  ASSERT_TRUE(found_within(y, resource(5), x_id, 2000));

  redis_->stop();
  ASSERT_TRUE(instance(0).wait_for("event=redis_lost"));
  ASSERT_TRUE(instance(1).wait_for("event=redis_lost"));
  EXPECT_TRUE(instance(0).wait_metric("p2pcdn_redis_up", 0));
  // Local service goes on: peers of one instance find each other and relay.
  WsClient local;
  ASSERT_TRUE(local.connect(instance(0).port()));
  const PeerId local_id = local.join(kSite);
  local.send(Announce{{resource(6)}});
  ASSERT_TRUE(local.sync());
  auto found = lookup(x, resource(6), 1);
  EXPECT_TRUE(lists(found, local_id));
  expect_offer_and_answer(local, local_id, x, x_id);
  // A lookup the other instance cannot answer is answered at once with what is here.
  const auto asked = Clock::now();
  auto alone = lookup(y, resource(5), 2);
  ASSERT_TRUE(alone);
  EXPECT_TRUE(alone->peers.empty());
  EXPECT_LT(ms_since(asked), 500);
  expect_unknown_peer(y, x_id);
  // Retries while down are not logged again.
  std::this_thread::sleep_for(std::chrono::milliseconds(2 * kTtlMs));
  EXPECT_EQ(instance(0).count("event=redis_lost"), 1u);
  EXPECT_EQ(instance(0).count("event=redis_unavailable"), 0u);
  EXPECT_EQ(instance(0).metric("p2pcdn_redis_outages_total"), 1);

  ASSERT_TRUE(redis_->start());
  EXPECT_TRUE(instance(0).wait_metric("p2pcdn_redis_up", 1));
  EXPECT_TRUE(instance(1).wait_metric("p2pcdn_redis_up", 1));
  // What each holds was published again: the instances meet again.
  ASSERT_TRUE(found_within(y, resource(5), x_id, 3000));
  ASSERT_TRUE(found_within(x, resource(6), local_id, 1000));
  expect_offer_and_answer(x, x_id, y, y_id);
  EXPECT_EQ(instance(0).metric("p2pcdn_redis_resyncs_total"), 2);
}

TEST_F(ScaleOut, RedisUnavailableAtStartIsSaidOnceAndLocalPeersAreServed) {
  redis_->stop();
  Instance alone(redis_->address());
  ASSERT_NE(alone.port(), 0);
  ASSERT_TRUE(alone.wait_for("event=redis_unavailable"));
  EXPECT_EQ(alone.metric("p2pcdn_redis_up"), 0);
  WsClient a, b;
  ASSERT_TRUE(a.connect(alone.port()));
  ASSERT_TRUE(b.connect(alone.port()));
  const PeerId a_id = a.join(kSite);
  const PeerId b_id = b.join(kSite);
  a.send(Announce{{resource(8)}});
  ASSERT_TRUE(a.sync());
  EXPECT_TRUE(lists(lookup(b, resource(8), 1), a_id));
  expect_offer_and_answer(a, a_id, b, b_id);
  std::this_thread::sleep_for(std::chrono::milliseconds(kTtlMs));
  EXPECT_EQ(alone.count("event=redis_unavailable"), 1u);
  EXPECT_EQ(alone.metric("p2pcdn_redis_outages_total"), 1);
  ASSERT_TRUE(redis_->start());
  ASSERT_TRUE(alone.wait_for("event=redis_connected"));
  EXPECT_TRUE(alone.wait_metric("p2pcdn_redis_up", 1));
}

}  // namespace
}  // namespace p2pcdn::testing
