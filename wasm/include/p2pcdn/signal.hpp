// Signaling protocol: messages between a browser and p2pcdn-server over a WebSocket.
// The server and the client share this codec. See docs/protocol.md.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/envelope.hpp"
#include "p2pcdn/result.hpp"

namespace p2pcdn {

inline constexpr uint8_t kSignalVersion = 1;
// An SDP offer with many candidates stays well under this.
inline constexpr size_t kDefaultMaxSignalMessage = 64 * 1024;
// An origin ("https://example.com:8443") or a swarm key is short; cap what a client can make us
// hold.
inline constexpr size_t kMaxSiteLength = 256;
inline constexpr size_t kMaxSignalText = 1024;

enum class SignalType : uint8_t {
  kJoin = 1,
  kWelcome = 2,
  kAnnounce = 3,
  kWithdraw = 4,
  kLookup = 5,
  kPeers = 6,
  kRelay = 7,
  kHeartbeat = 8,
  kHeartbeatAck = 9,
  kError = 10,
  kLeave = 11,
};

struct Join {
  std::string site;       // the page's origin; the server checks it against its allow-list
  std::string swarm_key;  // optional sub-swarm ("" for the site's default swarm)
  uint32_t capabilities = 0;
};

struct Welcome {
  PeerId peer_id{};
  uint32_t heartbeat_interval_ms = 0;  // send HEARTBEAT at least this often
  uint32_t max_announce = 0;           // most resource ids the server keeps for this peer
};

struct Announce {
  std::vector<ResourceId> ids;
};

struct Withdraw {
  std::vector<ResourceId> ids;
};

// LOOKUP flags. kClaim: if nobody holds the resource, the asker is about to fetch it from the
// origin: the server names it to the askers after it (a crowd fetches once), as a holder
// whose copy is still coming.
constexpr uint8_t kLookupClaim = 0x01;

struct Lookup {
  uint32_t lookup_id = 0;
  ResourceId resource{};
  uint16_t max_peers = 0;
  uint8_t flags = 0;  // kLookup*; on the wire only when not 0 (older clients send none)
};

// PEERS flags, only in answer to a LOOKUP with flags. kClaimed: nobody held it and the asker
// is now its claimant (no peers listed). kComing: a peer listed is fetching it from the origin
// and will hold it soon: worth a longer wait than an ordinary connect.
constexpr uint8_t kPeersClaimed = 0x01;
constexpr uint8_t kPeersComing = 0x02;

struct Peers {
  uint32_t lookup_id = 0;
  ResourceId resource{};
  std::vector<PeerId> peers;
  uint8_t flags = 0;  // kPeers*; on the wire only when not 0
};

enum class RelayKind : uint8_t { kOffer = 1, kAnswer = 2, kCandidate = 3, kBye = 4 };

// Client to server: peer is the target. Server to client: peer is the source.
// The peer id sits right after the envelope so the server can rewrite it in place.
struct Relay {
  PeerId peer{};
  RelayKind kind = RelayKind::kOffer;
  std::string payload;  // SDP or a JSON ICE candidate, opaque to the server
};

struct Heartbeat {
  uint64_t sent_at_ms = 0;
};

struct HeartbeatAck {
  uint64_t sent_at_ms = 0;  // echoed from the HEARTBEAT
};

enum class SignalErrorCode : uint16_t {
  kMalformed = 1,
  kNotJoined = 2,
  kRateLimited = 3,
  kTooManyAnnouncements = 4,
  kUnknownPeer = 5,
  kForbiddenSite = 6,
  kServerFull = 7,
  kAlreadyJoined = 8,
  kShuttingDown = 9,
};

struct SignalError {
  uint16_t code = 0;
  uint8_t about_type = 0;  // the SignalType that caused it, 0 if none
  std::string message;
};

struct Leave {};

using SignalMessage = std::variant<Join, Welcome, Announce, Withdraw, Lookup, Peers, Relay,
                                   Heartbeat, HeartbeatAck, SignalError, Leave>;

SignalType signal_type(const SignalMessage& message);

// Fails with kOversize when a list or text is longer than its field allows.
Result<std::vector<uint8_t>> encode_signal(const SignalMessage& message);

Result<SignalMessage> decode_signal(ByteView message,
                                    size_t max_message_size = kDefaultMaxSignalMessage);

inline constexpr size_t kRelayPeerOffset = kEnvelopeSize;

// Replaces the peer id of an encoded RELAY (target -> source) without re-encoding it.
void rewrite_relay_peer(uint8_t* relay_message, const PeerId& peer);

}  // namespace p2pcdn
