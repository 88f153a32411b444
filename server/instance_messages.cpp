#include "instance_messages.hpp"

#include <cstring>

#include "p2pcdn/sha256.hpp"

namespace p2pcdn::server {
namespace {

constexpr size_t kRelayHeader = 2 + kInstanceIdSize + 16 + 16;
constexpr size_t kRefusedSize = 2 + 16 + 16 + 1;
// The signaling RELAY carried: its envelope (type 7 at offset 1), then the sender's id.
constexpr size_t kMinRelayMessage = 8 + 16;
constexpr uint8_t kSignalRelayType = 7;

template <size_t N>
void put(std::string& out, const std::array<uint8_t, N>& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), N);
}

template <size_t N>
std::array<uint8_t, N> take(std::string_view in, size_t at) {
  std::array<uint8_t, N> bytes{};
  std::memcpy(bytes.data(), in.data() + at, N);
  return bytes;
}

}  // namespace

SwarmTag swarm_tag(const std::string& swarm) {
  const Sha256Digest digest = sha256(ByteView::of(swarm));
  SwarmTag tag{};
  std::memcpy(tag.data(), digest.data(), tag.size());
  return tag;
}

std::string encode_instance_relay(std::string_view from_instance, const SwarmTag& swarm,
                                  const PeerId& target, ByteView message) {
  std::string out;
  out.reserve(kRelayHeader + message.size);
  out.push_back(static_cast<char>(kInstanceMessageVersion));
  out.push_back(static_cast<char>(InstanceMessageType::kRelay));
  out.append(from_instance.substr(0, kInstanceIdSize));
  out.resize(2 + kInstanceIdSize, '0');
  put(out, swarm);
  put(out, target);
  out.append(reinterpret_cast<const char*>(message.data), message.size);
  return out;
}

std::string encode_relay_refused(const PeerId& sender, const PeerId& target, RelayOutcome reason) {
  std::string out;
  out.reserve(kRefusedSize);
  out.push_back(static_cast<char>(kInstanceMessageVersion));
  out.push_back(static_cast<char>(InstanceMessageType::kRelayRefused));
  put(out, sender);
  put(out, target);
  out.push_back(static_cast<char>(reason));
  return out;
}

std::optional<InstanceMessage> decode_instance_message(std::string_view in) {
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != kInstanceMessageVersion) return std::nullopt;
  switch (static_cast<InstanceMessageType>(in[1])) {
    case InstanceMessageType::kRelay: {
      if (in.size() < kRelayHeader + kMinRelayMessage ||
          static_cast<uint8_t>(in[kRelayHeader + 1]) != kSignalRelayType)
        return std::nullopt;
      InstanceRelay relay;
      relay.from_instance = in.substr(2, kInstanceIdSize);
      relay.swarm = take<16>(in, 2 + kInstanceIdSize);
      relay.target = take<16>(in, 2 + kInstanceIdSize + 16);
      relay.message = ByteView(reinterpret_cast<const uint8_t*>(in.data()) + kRelayHeader,
                               in.size() - kRelayHeader);
      return relay;
    }
    case InstanceMessageType::kRelayRefused: {
      if (in.size() != kRefusedSize) return std::nullopt;
      const auto reason = static_cast<RelayOutcome>(in[kRefusedSize - 1]);
      if (reason != RelayOutcome::kUnknownPeer && reason != RelayOutcome::kTargetBusy)
        return std::nullopt;
      return InstanceRelayRefused{take<16>(in, 2), take<16>(in, 18), reason};
    }
  }
  return std::nullopt;
}

}  // namespace p2pcdn::server
