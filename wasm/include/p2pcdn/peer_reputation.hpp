// What this visitor remembers about other peers, by peer id, for the length of a visit:
// who delivered, who lied, stalled, dripped, flooded or could not be reached. It outlives
// links and page loads (the page saves it to storage and loads it on the next page), so a
// hostile peer costs a visitor one failure, not one per page. Plain data, no clock of its own.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace p2pcdn {

enum class PeerOffense : uint8_t {
  kNone = 0,
  // Proof of hostility or of a broken peer: banned at once.
  kLied = 1,       // bytes that failed the origin's hash
  kMalformed = 2,  // a frame our decoder refused, or larger than negotiated
  kInjected = 3,   // DATA for a request sent to another peer
  kFlooded = 4,    // requests, offers or announcements far beyond the caps
  // Could be bad luck (a busy tab, a lost link): a strike; a few strikes ban.
  kStalled = 5,    // no first byte in time
  kDripped = 6,    // below the minimum rate
  kTruncated = 7,  // closed the link with a transfer unfinished
  // Not its fault, perhaps, but no use to us: skipped after a few.
  kConnectFailed = 8,
};

const char* offense_name(PeerOffense offense);

struct ReputationLimits {
  size_t max_peers = 512;               // the oldest record goes first beyond this
  uint64_t memory_ms = 60 * 60 * 1000;  // a visit: records older than this are forgotten
  uint32_t strikes_to_ban = 2;          // stalls, drips and truncations together
  // Strikes this close together count once: one CPU-starved moment of an honest peer can
  // expire all its requests at once, and that is one event, not several.
  uint64_t strike_spacing_ms = 3000;
  // An honest peer answers every offer; one that did not, or whose network cannot reach
  // ours, will not do better on the next page.
  uint32_t connect_failures_to_skip = 1;
};

struct PeerRecord {
  uint64_t delivered_bytes = 0;
  uint32_t strikes = 0;
  uint64_t last_strike_ms = 0;  // not saved: spacing matters within a page
  uint32_t connect_failures = 0;
  PeerOffense banned_for = PeerOffense::kNone;
  uint64_t last_ms = 0;
};

class PeerReputation {
 public:
  explicit PeerReputation(ReputationLimits limits = {});

  void on_delivered(std::string_view peer, uint64_t bytes, uint64_t now_ms);
  // Records an offense; true if the peer is banned now (whether or not it was before).
  bool on_offense(std::string_view peer, PeerOffense offense, uint64_t now_ms);

  bool banned(std::string_view peer) const;
  // Neither banned nor past the connect-failure limit.
  bool usable(std::string_view peer) const;
  const PeerRecord* find(std::string_view peer) const;

  // The usable peers among `peers`, best first: those that delivered (most bytes first),
  // then strangers, then those with strikes or failed connects. Ties keep the input order
  // (the server's order is random), so announcing first wins nothing here either.
  std::vector<std::string> rank(const std::vector<std::string>& peers) const;

  // One line per peer: "id delivered strikes connect_failures banned_for last_ms". load()
  // skips malformed lines and forgets records older than memory_ms.
  std::string save() const;
  void load(std::string_view text, uint64_t now_ms);

  size_t size() const { return peers_.size(); }

 private:
  PeerRecord& record(std::string_view peer, uint64_t now_ms);
  void evict_oldest();

  ReputationLimits limits_;
  std::unordered_map<std::string, PeerRecord> peers_;
};

}  // namespace p2pcdn
