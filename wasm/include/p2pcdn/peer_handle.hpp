// The JS glue keeps RTCPeerConnections in a table; the core sees only their handles.
#pragma once
#include <cstdint>

namespace p2pcdn {

using PeerHandle = uint32_t;

}  // namespace p2pcdn
