// What p2pcdn-server instances send each other through Redis pub/sub, each to the other's
// own channel (docs/protocol.md, "Between instances"). Binary, version 1: a relay forwarded
// to the instance its target is connected to, and the refusal that comes back when it could
// not be delivered. Decoding checks every length before reading.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "p2pcdn/bytes.hpp"

namespace p2pcdn::server {

// A swarm ("site\nswarm key", up to 513 bytes) as 16 bytes: the first half of its SHA-256.
// 128 bits, so no client can make two swarms collide.
using SwarmTag = std::array<uint8_t, 16>;
SwarmTag swarm_tag(const std::string& swarm);

// Instances are named by 16 lower-case hex digits, random at each connection to Redis.
inline constexpr size_t kInstanceIdSize = 16;

inline constexpr uint8_t kInstanceMessageVersion = 1;
enum class InstanceMessageType : uint8_t { kRelay = 1, kRelayRefused = 2 };

// What became of a relay handed to another instance.
enum class RelayOutcome : uint8_t { kDelivered = 0, kUnknownPeer = 1, kTargetBusy = 2 };

// A signaling RELAY for a peer on the receiving instance, exactly as that peer is to get it
// (the sender's id already in place, at offset 8).
struct InstanceRelay {
  std::string_view from_instance;  // where to send a refusal
  SwarmTag swarm{};                // the sender's swarm: the target must be in the same one
  PeerId target{};
  ByteView message;
};

// The relay `sender` sent `target` was not delivered.
struct InstanceRelayRefused {
  PeerId sender{};
  PeerId target{};
  RelayOutcome reason = RelayOutcome::kUnknownPeer;
};

using InstanceMessage = std::variant<InstanceRelay, InstanceRelayRefused>;

std::string encode_instance_relay(std::string_view from_instance, const SwarmTag& swarm,
                                  const PeerId& target, ByteView message);
std::string encode_relay_refused(const PeerId& sender, const PeerId& target, RelayOutcome reason);
// Views into `payload`; nothing if it is not a well-formed version-1 message.
std::optional<InstanceMessage> decode_instance_message(std::string_view payload);

}  // namespace p2pcdn::server
