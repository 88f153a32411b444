// WebSocket close codes the server sends (RFC 6455 section 7.4; 4000 and up are private).
// Shared by the hub, which closes peers, and the frame layer, which closes broken streams.
#pragma once
#include <cstdint>

namespace p2pcdn::server::close_code {

inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;      // server shutting down
inline constexpr uint16_t kProtocolError = 1002;  // a frame RFC 6455 forbids
inline constexpr uint16_t kNoStatus = 1005;       // a close frame without a code (never sent)
inline constexpr uint16_t kInvalidData = 1007;    // text or close reason that is not UTF-8
inline constexpr uint16_t kPolicy = 1008;         // rate limit, slow reader
inline constexpr uint16_t kTooBig = 1009;         // message over --max-message-size
inline constexpr uint16_t kTryAgainLater = 1013;  // server or IP connection limit
inline constexpr uint16_t kHeartbeatTimeout = 4000;
inline constexpr uint16_t kForbiddenSite = 4003;

}  // namespace p2pcdn::server::close_code
