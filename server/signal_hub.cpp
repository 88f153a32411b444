#include "signal_hub.hpp"

#include <algorithm>
#include <random>

#include "p2pcdn/sha256.hpp"

namespace p2pcdn::server {
namespace {

// Ids come from the OS's random source: unguessable, so no peer can aim at another.
PeerId random_peer_id() {
  static std::random_device device;
  PeerId id{};
  for (size_t i = 0; i < id.size(); i += 4) {
    const uint32_t r = device();
    std::memcpy(id.data() + i, &r, 4);
  }
  return id;
}

constexpr uint64_t kStrikeWindowMs = 10000;

std::shared_ptr<const std::vector<uint8_t>> shared_bytes(std::vector<uint8_t> bytes) {
  return std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
}

}  // namespace

std::string peer_hex(const PeerId& id) {
  return to_hex(ByteView(id.data(), id.size()));
}

SignalHub::SignalHub(const ServerConfig& config, SwarmRegistry& registry, Metrics& metrics,
                     const Logger& log)
    : config_(config), registry_(registry), metrics_(metrics), log_(log) {}

PeerId SignalHub::connect(std::weak_ptr<PeerLink> link, ConnectionInfo info, uint64_t now_ms) {
  PeerId id = random_peer_id();
  while (peers_.count(id) != 0) id = random_peer_id();
  PeerState state{
      std::move(link),
      std::move(info),
      TokenBucket(config_.messages_per_second, 2 * config_.messages_per_second, now_ms),
      TokenBucket(config_.max_relay_in_per_second, 2 * config_.max_relay_in_per_second, now_ms),
      now_ms,
      now_ms};
  peers_.emplace(id, std::move(state));
  ++metrics_.websockets_open;
  return id;
}

void SignalHub::disconnect(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  if (it->second.joined) log_.log(LogLevel::kDebug, "peer_left", {{"peer", peer_hex(peer)}});
  leave_swarm(peer, it->second);
  peers_.erase(it);
  --metrics_.websockets_open;
  refresh_gauges();
}

bool SignalHub::admit(const PeerId& id, PeerState& p, uint64_t now_ms) {
  if (p.bucket.take(now_ms)) return true;
  metrics_.reject(Rejection::kRateLimited);
  if (strike(id, p, kNoticeRateLimited, now_ms)) {
    send_error(p, SignalErrorCode::kRateLimited, static_cast<SignalType>(0),
               "rate limit: " + std::to_string(config_.messages_per_second) + " messages/s");
  }
  return false;
}

// True the first time `kind` happens to this peer in the current window: that one is told
// and logged, later ones only counted, so a hostile peer floods neither the log nor the
// queue of its own socket.
bool SignalHub::first_in_window(PeerState& p, Notice kind, uint64_t now_ms) {
  if (now_ms - p.window_since_ms > kStrikeWindowMs) {
    p.window_since_ms = now_ms;
    p.strikes = 0;
    p.noticed = 0;
  }
  if (p.noticed & kind) return false;
  p.noticed |= kind;
  return true;
}

// One of this peer's messages was dropped. The first drop of a kind in a window is to be
// explained (true); a peer that keeps on after that is closed.
bool SignalHub::strike(const PeerId& id, PeerState& p, Notice kind, uint64_t now_ms) {
  const bool first = first_in_window(p, kind, now_ms);
  ++p.strikes;
  if (!first && p.strikes > 4 * config_.messages_per_second) {
    log_.log(LogLevel::kWarn, "peer_flooding",
             {{"peer", peer_hex(id)},
              {"ip", p.info.ip},
              {"dropped", kind == kNoticeTargetBusy  ? "relays_to_busy_target"
                          : kind == kNoticeMalformed ? "malformed"
                                                     : "over_rate"}});
    close(id, p, close_code::kPolicy, "rate limit exceeded");
  }
  return first;
}

void SignalHub::receive(const PeerId& peer, ByteView message, uint64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  PeerState& p = it->second;
  ++metrics_.messages_received;
  metrics_.bytes_received += message.size;
  if (p.closing) return;
  p.last_seen_ms = now_ms;
  if (!admit(peer, p, now_ms)) return;

  auto decoded = decode_signal(message, config_.max_message_size);
  if (!decoded) {
    const auto about = message.size > 1 ? static_cast<SignalType>(message.data[1]) : SignalType{};
    malformed(peer, p, about, describe(decoded.error()), now_ms);
    return;
  }
  current_message_ = message;
  dispatch(peer, p, decoded.value(), now_ms);
  current_message_ = {};
}

void SignalHub::receive_text(const PeerId& peer, uint64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  ++metrics_.messages_received;
  if (it->second.closing) return;  // as in receive(): a closing peer is no longer answered
  it->second.last_seen_ms = now_ms;
  if (!admit(peer, it->second, now_ms)) return;
  malformed(peer, it->second, SignalType{}, "signaling messages are binary", now_ms);
}

// Every malformed message is answered (the ERROR says what was wrong with it) and counts
// towards closing the sender, like a message over its rate.
void SignalHub::malformed(const PeerId& id, PeerState& p, SignalType about, const std::string& text,
                          uint64_t now_ms) {
  metrics_.reject(Rejection::kMalformed);
  send_error(p, SignalErrorCode::kMalformed, about, text);
  if (strike(id, p, kNoticeMalformed, now_ms)) {
    log_.log(LogLevel::kInfo, "malformed_message",
             {{"peer", peer_hex(id)}, {"ip", p.info.ip}, {"error", text}});
  }
}

void SignalHub::dispatch(const PeerId& id, PeerState& p, SignalMessage& message, uint64_t now_ms) {
  const SignalType type = signal_type(message);
  if (auto* hb = std::get_if<Heartbeat>(&message)) {
    send(p, HeartbeatAck{hb->sent_at_ms});
    return;
  }
  if (auto* join = std::get_if<Join>(&message)) {
    on_join(id, p, *join);
    return;
  }
  if (std::holds_alternative<Leave>(message)) {
    close(id, p, close_code::kNormal, "bye");
    return;
  }
  if (std::holds_alternative<Welcome>(message) || std::holds_alternative<Peers>(message) ||
      std::holds_alternative<HeartbeatAck>(message) ||
      std::holds_alternative<SignalError>(message)) {
    malformed(id, p, type, "server-to-client message sent to the server", now_ms);
    return;
  }
  if (!p.joined) {
    metrics_.reject(Rejection::kNotJoined);
    send_error(p, SignalErrorCode::kNotJoined, type, "send JOIN first");
    return;
  }
  if (auto* announce = std::get_if<Announce>(&message)) {
    on_announce(id, p, *announce, now_ms);
  } else if (auto* withdraw = std::get_if<Withdraw>(&message)) {
    on_withdraw(id, p, *withdraw);
  } else if (auto* lookup = std::get_if<Lookup>(&message)) {
    on_lookup(id, p, *lookup, now_ms);
  } else if (auto* relay = std::get_if<Relay>(&message)) {
    on_relay(id, p, current_message_, *relay, now_ms);
  }
  refresh_gauges();
}

void SignalHub::on_join(const PeerId& id, PeerState& p, const Join& join) {
  if (p.joined) {
    metrics_.reject(Rejection::kAlreadyJoined);
    send_error(p, SignalErrorCode::kAlreadyJoined, SignalType::kJoin, "already joined");
    return;
  }
  const auto& allowed = config_.allowed_origins;
  const bool listed =
      allowed.empty() || std::find(allowed.begin(), allowed.end(), join.site) != allowed.end();
  // A browser cannot lie about its Origin: a page may only join its own site's swarm. A
  // client without one is no browser, and could claim any site: refused unless allowed.
  const bool no_origin = p.info.origin.empty();
  const bool own_site = no_origin ? config_.allow_no_origin : p.info.origin == join.site;
  if (!listed || !own_site) {
    const char* reason = !listed ? "site_not_allowed" : no_origin ? "no_origin" : "origin_mismatch";
    metrics_.reject(Rejection::kForbiddenSite);
    log_.log(LogLevel::kInfo, "join_refused",
             {{"peer", peer_hex(id)},
              {"ip", p.info.ip},
              {"site", join.site},
              {"origin", p.info.origin},
              {"reason", reason}});
    send_error(p, SignalErrorCode::kForbiddenSite, SignalType::kJoin,
               !listed     ? "site not allowed on this server"
               : no_origin ? "no Origin header: this server takes browsers only"
                           : "site does not match the page's origin");
    close(id, p, close_code::kForbiddenSite, "forbidden site");
    return;
  }
  // One address may hold only so many identities in a swarm: fake holders from one machine
  // cannot crowd out the honest ones.
  const std::string swarm = join.site + '\n' + join.swarm_key;
  std::string ip_swarm = p.info.ip + '\n' + swarm;
  auto same_ip = joined_per_ip_swarm_.find(ip_swarm);
  if (same_ip != joined_per_ip_swarm_.end() &&
      same_ip->second >= config_.max_peers_per_ip_per_swarm) {
    metrics_.reject(Rejection::kTooManyPeersFromIp);
    log_.log(LogLevel::kInfo, "join_refused",
             {{"peer", peer_hex(id)},
              {"ip", p.info.ip},
              {"site", join.site},
              {"peers_from_ip", std::to_string(same_ip->second)},
              {"reason", "too_many_peers_from_ip"}});
    send_error(p, SignalErrorCode::kServerFull, SignalType::kJoin,
               "too many peers from this address in this swarm: limit " +
                   std::to_string(config_.max_peers_per_ip_per_swarm));
    close(id, p, close_code::kTryAgainLater, "too many peers from this address");
    return;
  }
  registry_.join(id, swarm);
  if (cluster_ != nullptr) cluster_->joined(id, swarm);
  IpSwarmEntry& entry = *joined_per_ip_swarm_.try_emplace(std::move(ip_swarm), 0).first;
  ++entry.second;
  p.ip_swarm = &entry;
  p.joined = true;
  refresh_gauges();
  log_.log(LogLevel::kDebug, "peer_joined", {{"peer", peer_hex(id)}, {"site", join.site}});
  send(p, Welcome{id, config_.heartbeat_interval_ms, config_.max_announced_per_peer});
}

void SignalHub::on_announce(const PeerId& id, PeerState& p, const Announce& announce,
                            uint64_t now_ms, bool claim) {
  // The peer's own limit, or less if its address is near the limit of all its peers.
  auto ip_it = announced_per_ip_.try_emplace(p.info.ip, 0).first;
  const uint64_t ip_room = ip_it->second < config_.max_announced_per_ip
                               ? config_.max_announced_per_ip - ip_it->second
                               : 0;
  const size_t limit = static_cast<size_t>(
      std::min<uint64_t>(config_.max_announced_per_peer, p.announced + ip_room));
  if (cluster_ != nullptr) {
    // Other instances hear of what changed only: a claim confirmed, ids new to this peer.
    std::vector<ResourceId> confirmed, added;
    claims_.confirmed(id, announce.ids, &confirmed);
    const AnnounceResult r = registry_.announce(id, announce.ids, limit, &added);
    if (!confirmed.empty()) cluster_->announced(id, confirmed, false);
    if (!added.empty()) cluster_->announced(id, added, claim);
    after_announce(id, p, r, limit, ip_it, now_ms);
    return;
  }
  claims_.confirmed(id, announce.ids);
  after_announce(id, p, registry_.announce(id, announce.ids, limit), limit, ip_it, now_ms);
}

void SignalHub::after_announce(const PeerId& id, PeerState& p, const AnnounceResult& r,
                               size_t limit, AnnouncedPerIp::iterator ip_it, uint64_t now_ms) {
  p.announced += static_cast<uint32_t>(r.added);
  ip_it->second += r.added;
  const uint64_t ip_total = ip_it->second;
  if (ip_total == 0) announced_per_ip_.erase(ip_it);
  if (r.refused == 0) return;
  const bool by_ip = limit < config_.max_announced_per_peer;
  metrics_.reject(by_ip ? Rejection::kTooManyAnnouncedFromIp : Rejection::kTooManyAnnouncements);
  if (first_in_window(p, kNoticeAnnounce, now_ms)) {
    log_.log(LogLevel::kInfo, "announce_refused",
             {{"peer", peer_hex(id)},
              {"ip", p.info.ip},
              {"refused", std::to_string(r.refused)},
              {"peer_holds", std::to_string(p.announced)},
              {"ip_holds", std::to_string(ip_total)},
              {"reason", by_ip ? "too_many_announced_from_ip" : "too_many_announcements"}});
  }
  send_error(p, SignalErrorCode::kTooManyAnnouncements, SignalType::kAnnounce,
             "refused " + std::to_string(r.refused) + " ids: limit " +
                 (by_ip ? std::to_string(config_.max_announced_per_ip) + " per address"
                        : std::to_string(config_.max_announced_per_peer) + " per peer"));
}

// A lookup; with the claim flag, the asker of a resource nobody holds becomes its claimant
// (announced at once, see fetch_claims.hpp), and askers after it hear that it is coming.
// With other instances, holders here come first; when they are fewer than asked for, the
// other instances are asked for the rest and the answer goes out when they have answered.
void SignalHub::on_lookup(const PeerId& id, PeerState& p, const Lookup& lookup, uint64_t now_ms) {
  for (const auto& [peer, resource] : claims_.expire(now_ms)) {
    auto it = peers_.find(peer);
    if (it != peers_.end()) on_withdraw(peer, it->second, Withdraw{{resource}});
  }
  const size_t k = std::min<size_t>(lookup.max_peers, config_.max_lookup_peers);
  ++metrics_.lookups;
  std::vector<PeerId> holders = registry_.lookup(id, lookup.resource, k);
  if (cluster_ != nullptr && holders.size() < k && cluster_->active()) {
    ++metrics_.remote_lookups;
    const size_t wanted = k - holders.size();
    cluster_->lookup(id, lookup.resource, wanted,
                     [this, id, lookup, holders = std::move(holders)](
                         std::vector<RemoteHolder> remote, uint64_t now) mutable {
                       auto it = peers_.find(id);
                       if (it == peers_.end() || it->second.closing || !it->second.joined) return;
                       bool remote_claimant = false;
                       for (const RemoteHolder& r : remote) {
                         if (std::find(holders.begin(), holders.end(), r.peer) != holders.end())
                           continue;
                         holders.push_back(r.peer);
                         remote_claimant = remote_claimant || r.claimant;
                       }
                       // Random order again, whichever instance each holder is on.
                       std::shuffle(holders.begin(), holders.end(), random_);
                       answer_lookup(id, it->second, lookup, std::move(holders), remote_claimant,
                                     now);
                       refresh_gauges();
                     });
    return;
  }
  answer_lookup(id, p, lookup, std::move(holders), false, now_ms);
}

void SignalHub::answer_lookup(const PeerId& id, PeerState& p, const Lookup& lookup,
                              std::vector<PeerId> holders, bool remote_claimant, uint64_t now_ms) {
  uint8_t flags = 0;
  if ((lookup.flags & kLookupClaim) != 0) {
    if (holders.empty()) {
      const uint32_t before = p.announced;
      on_announce(id, p, Announce{{lookup.resource}}, now_ms, true);
      if (p.announced > before && claims_.claim(lookup.resource, id, now_ms)) {
        flags = kPeersClaimed;
        ++metrics_.claims;
      }
    } else if (remote_claimant || claims_.coming(lookup.resource, holders)) {
      flags = kPeersComing;
    }
  }
  send(p, Peers{lookup.lookup_id, lookup.resource, std::move(holders), flags});
}

void SignalHub::on_withdraw(const PeerId& id, PeerState& p, const Withdraw& withdraw) {
  std::vector<ResourceId> removed_ids;
  const size_t removed =
      registry_.withdraw(id, withdraw.ids, cluster_ != nullptr ? &removed_ids : nullptr);
  if (removed == 0) return;
  if (cluster_ != nullptr) cluster_->withdrawn(id, removed_ids);
  p.announced -= static_cast<uint32_t>(removed);
  auto ip_it = announced_per_ip_.find(p.info.ip);
  ip_it->second -= removed;
  if (ip_it->second == 0) announced_per_ip_.erase(ip_it);
}

// Out of its swarm, with its announcements, and no longer counted against its address.
void SignalHub::leave_swarm(const PeerId& id, PeerState& p) {
  if (cluster_ != nullptr && p.ip_swarm != nullptr) cluster_->left(id, registry_.held(id));
  registry_.leave(id);
  if (p.announced > 0) {
    auto ip_it = announced_per_ip_.find(p.info.ip);
    ip_it->second -= p.announced;
    if (ip_it->second == 0) announced_per_ip_.erase(ip_it);
    p.announced = 0;
  }
  if (p.ip_swarm != nullptr) {
    if (--p.ip_swarm->second == 0)
      joined_per_ip_swarm_.erase(joined_per_ip_swarm_.find(p.ip_swarm->first));
    p.ip_swarm = nullptr;
  }
}

void SignalHub::on_relay(const PeerId& id, PeerState& p, ByteView message, const Relay& relay,
                         uint64_t now_ms) {
  auto target = peers_.find(relay.peer);
  if (target == peers_.end() && cluster_ != nullptr && relay.peer != id && cluster_->active()) {
    // Perhaps a peer of another instance: the cluster finds out, and says if it is not.
    std::vector<uint8_t> forwarded(message.data, message.data + message.size);
    rewrite_relay_peer(forwarded.data(), id);
    ++metrics_.remote_relays_sent;
    cluster_->relay(id, relay.peer, std::move(forwarded));
    return;
  }
  if (relay.peer == id || target == peers_.end() || !registry_.same_swarm(id, relay.peer)) {
    metrics_.reject(Rejection::kUnknownPeer);
    send_error(p, SignalErrorCode::kUnknownPeer, SignalType::kRelay, "no such peer in this swarm");
    return;
  }
  PeerState& to = target->second;
  auto link = to.link.lock();
  if (!link) return;
  // What others send a peer is limited at the sender's door, not by closing the peer: relays
  // fill at most half its send queue (the rest is for the server's own answers), at most
  // --max-relay-in-per-second from all senders together. The sender is refused instead.
  const bool queue_half_full =
      link->queued_bytes() + message.size > config_.max_send_queue_bytes / 2;
  if (queue_half_full || !to.relay_in.take(now_ms)) {
    refuse_relay_to_busy(id, p, relay.peer,
                         queue_half_full ? "target_not_reading" : "target_relay_rate", now_ms);
    return;
  }
  // Forward the bytes as they came, with the target's id replaced by the sender's.
  std::vector<uint8_t> forwarded(message.data, message.data + message.size);
  rewrite_relay_peer(forwarded.data(), id);
  ++metrics_.relays;
  metrics_.bytes_sent += forwarded.size();
  link->send(shared_bytes(std::move(forwarded)));
}

void SignalHub::refuse_relay_to_busy(const PeerId& id, PeerState& p, const PeerId& target,
                                     const char* reason, uint64_t now_ms) {
  metrics_.reject(Rejection::kTargetBusy);
  if (strike(id, p, kNoticeTargetBusy, now_ms)) {
    const std::string target_hex = peer_hex(target);
    log_.log(
        LogLevel::kInfo, "relay_refused",
        {{"peer", peer_hex(id)}, {"ip", p.info.ip}, {"target", target_hex}, {"reason", reason}});
    send_error(p, SignalErrorCode::kRateLimited, SignalType::kRelay,
               "target busy: relays to " + target_hex + " dropped");
  }
}

RelayOutcome SignalHub::deliver_remote_relay(const PeerId& target, ByteView message,
                                             uint64_t now_ms) {
  auto it = peers_.find(target);
  if (it == peers_.end() || it->second.closing || !it->second.joined)
    return RelayOutcome::kUnknownPeer;
  PeerState& to = it->second;
  auto link = to.link.lock();
  if (!link) return RelayOutcome::kUnknownPeer;
  // The same limits as for a relay from a peer of this instance.
  if (link->queued_bytes() + message.size > config_.max_send_queue_bytes / 2 ||
      !to.relay_in.take(now_ms))
    return RelayOutcome::kTargetBusy;
  ++metrics_.relays;
  ++metrics_.remote_relays_received;
  metrics_.bytes_sent += message.size;
  link->send(shared_bytes(std::vector<uint8_t>(message.data, message.data + message.size)));
  return RelayOutcome::kDelivered;
}

void SignalHub::remote_relay_refused(const PeerId& sender, const PeerId& target,
                                     RelayOutcome reason, uint64_t now_ms) {
  auto it = peers_.find(sender);
  if (it == peers_.end() || it->second.closing) return;
  PeerState& p = it->second;
  if (reason == RelayOutcome::kTargetBusy) {
    refuse_relay_to_busy(sender, p, target, "target_busy_on_other_instance", now_ms);
    return;
  }
  metrics_.reject(Rejection::kUnknownPeer);
  send_error(p, SignalErrorCode::kUnknownPeer, SignalType::kRelay, "no such peer in this swarm");
}

void SignalHub::sweep(uint64_t now_ms) {
  for (auto& [id, p] : peers_) {
    const uint64_t silent_ms = now_ms > p.last_seen_ms ? now_ms - p.last_seen_ms : 0;
    if (!p.closing && silent_ms > config_.peer_timeout_ms) {
      metrics_.reject(Rejection::kHeartbeatTimeout);
      log_.log(LogLevel::kInfo, "peer_timeout", {{"peer", peer_hex(id)}, {"ip", p.info.ip}});
      close(id, p, close_code::kHeartbeatTimeout, "heartbeat timeout");
    } else if (p.closing && silent_ms > 2 * uint64_t{config_.peer_timeout_ms}) {
      // A closing peer's last message came before its close, so it has had at least one
      // timeout to answer the close frame. Sessions keep no timers of their own.
      if (auto link = p.link.lock()) link->drop();
    }
  }
}

void SignalHub::shutdown() {
  for (auto& [id, p] : peers_) close(id, p, close_code::kGoingAway, "server shutting down");
}

void SignalHub::send(PeerState& p, const SignalMessage& message) {
  auto bytes = encode_signal(message);
  if (!bytes) return;  // every message the hub builds fits; nothing to tell the peer
  metrics_.bytes_sent += bytes->size();
  if (auto link = p.link.lock()) link->send(shared_bytes(std::move(bytes.value())));
}

void SignalHub::send_error(PeerState& p, SignalErrorCode code, SignalType about,
                           const std::string& text) {
  send(p, SignalError{static_cast<uint16_t>(code), static_cast<uint8_t>(about), text});
}

void SignalHub::close(const PeerId& id, PeerState& p, uint16_t code, const std::string& reason) {
  if (p.closing) return;
  p.closing = true;
  // Purged now, not when the socket has finished closing: nobody is sent to a leaving peer.
  leave_swarm(id, p);
  refresh_gauges();
  if (auto link = p.link.lock()) link->close(code, reason);
}

void SignalHub::refresh_gauges() {
  metrics_.peers_joined = registry_.peer_count();
  metrics_.swarms = registry_.swarm_count();
  metrics_.announcements = registry_.announcement_count();
}

}  // namespace p2pcdn::server
