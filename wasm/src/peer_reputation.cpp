#include "p2pcdn/peer_reputation.hpp"

#include <algorithm>
#include <charconv>

namespace p2pcdn {
namespace {

// Peer ids are 128-bit, 32 hex digits in JS; anything else is not a peer id.
bool valid_id(std::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool bans_at_once(PeerOffense o) {
  return o == PeerOffense::kLied || o == PeerOffense::kMalformed || o == PeerOffense::kInjected ||
         o == PeerOffense::kFlooded;
}

template <typename T>
bool parse(std::string_view& line, T& out) {
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), out);
  if (ec != std::errc()) return false;
  line.remove_prefix(static_cast<size_t>(end - line.data()));
  return true;
}

}  // namespace

const char* offense_name(PeerOffense offense) {
  switch (offense) {
    case PeerOffense::kNone:
      return "none";
    case PeerOffense::kLied:
      return "lied";
    case PeerOffense::kMalformed:
      return "malformed";
    case PeerOffense::kInjected:
      return "injected";
    case PeerOffense::kFlooded:
      return "flooded";
    case PeerOffense::kStalled:
      return "stalled";
    case PeerOffense::kDripped:
      return "dripped";
    case PeerOffense::kTruncated:
      return "truncated";
    case PeerOffense::kConnectFailed:
      return "connect-failed";
  }
  return "none";
}

PeerReputation::PeerReputation(ReputationLimits limits) : limits_(limits) {}

PeerRecord& PeerReputation::record(std::string_view peer, uint64_t now_ms) {
  auto it = peers_.find(std::string(peer));
  if (it == peers_.end()) {
    if (peers_.size() >= limits_.max_peers) evict_oldest();
    it = peers_.emplace(std::string(peer), PeerRecord{}).first;
  }
  it->second.last_ms = std::max(it->second.last_ms, now_ms);
  return it->second;
}

void PeerReputation::evict_oldest() {
  auto oldest = std::min_element(peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
    return a.second.last_ms < b.second.last_ms;
  });
  if (oldest != peers_.end()) peers_.erase(oldest);
}

void PeerReputation::on_delivered(std::string_view peer, uint64_t bytes, uint64_t now_ms) {
  if (!valid_id(peer)) return;
  PeerRecord& r = record(peer, now_ms);
  r.delivered_bytes += bytes;
  r.connect_failures = 0;
}

bool PeerReputation::on_offense(std::string_view peer, PeerOffense offense, uint64_t now_ms) {
  if (!valid_id(peer) || offense == PeerOffense::kNone) return false;
  PeerRecord& r = record(peer, now_ms);
  if (offense == PeerOffense::kConnectFailed) {
    ++r.connect_failures;
  } else if (bans_at_once(offense)) {
    if (r.banned_for == PeerOffense::kNone) r.banned_for = offense;
  } else if (r.strikes == 0 || now_ms >= r.last_strike_ms + limits_.strike_spacing_ms) {
    r.last_strike_ms = now_ms;
    if (++r.strikes >= limits_.strikes_to_ban && r.banned_for == PeerOffense::kNone) {
      r.banned_for = offense;
    }
  }
  return r.banned_for != PeerOffense::kNone;
}

const PeerRecord* PeerReputation::find(std::string_view peer) const {
  auto it = peers_.find(std::string(peer));
  return it == peers_.end() ? nullptr : &it->second;
}

bool PeerReputation::banned(std::string_view peer) const {
  const PeerRecord* r = find(peer);
  return r != nullptr && r->banned_for != PeerOffense::kNone;
}

bool PeerReputation::usable(std::string_view peer) const {
  const PeerRecord* r = find(peer);
  return r == nullptr || (r->banned_for == PeerOffense::kNone &&
                          r->connect_failures < limits_.connect_failures_to_skip);
}

std::vector<std::string> PeerReputation::rank(const std::vector<std::string>& peers) const {
  // Class 0: delivered; 1: stranger; 2: struck or failed to connect.
  struct Ranked {
    int tier;
    uint64_t delivered;
    size_t position;
    const std::string* id;
  };
  std::vector<Ranked> ranked;
  for (size_t i = 0; i < peers.size(); ++i) {
    const std::string& id = peers[i];
    if (!usable(id)) continue;
    if (std::any_of(ranked.begin(), ranked.end(), [&id](const Ranked& r) { return *r.id == id; }))
      continue;
    const PeerRecord* r = find(id);
    int tier = 1;
    if (r != nullptr && (r->strikes > 0 || r->connect_failures > 0))
      tier = 2;
    else if (r != nullptr && r->delivered_bytes > 0)
      tier = 0;
    ranked.push_back({tier, r != nullptr ? r->delivered_bytes : 0, i, &id});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if (a.tier != b.tier) return a.tier < b.tier;
    if (a.delivered != b.delivered) return a.delivered > b.delivered;
    return a.position < b.position;
  });
  std::vector<std::string> out;
  out.reserve(ranked.size());
  for (const Ranked& r : ranked) out.push_back(*r.id);
  return out;
}

std::string PeerReputation::save() const {
  std::string out;
  for (const auto& [id, r] : peers_) {
    out += id;
    for (uint64_t v : {r.delivered_bytes, static_cast<uint64_t>(r.strikes),
                       static_cast<uint64_t>(r.connect_failures),
                       static_cast<uint64_t>(r.banned_for), r.last_ms}) {
      out += ' ';
      out += std::to_string(v);
    }
    out += '\n';
  }
  return out;
}

void PeerReputation::load(std::string_view text, uint64_t now_ms) {
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.size() < 32) continue;
    const std::string_view id = line.substr(0, 32);
    line.remove_prefix(32);
    PeerRecord r;
    unsigned banned = 0;
    if (!valid_id(id) || !parse(line, r.delivered_bytes) || !parse(line, r.strikes) ||
        !parse(line, r.connect_failures) || !parse(line, banned) || !parse(line, r.last_ms) ||
        !line.empty() || banned > static_cast<unsigned>(PeerOffense::kConnectFailed)) {
      continue;
    }
    r.banned_for = static_cast<PeerOffense>(banned);
    if (r.last_ms > now_ms || now_ms - r.last_ms > limits_.memory_ms) continue;
    if (peers_.size() >= limits_.max_peers && peers_.count(std::string(id)) == 0) evict_oldest();
    peers_[std::string(id)] = r;
  }
}

}  // namespace p2pcdn
