// Error codes shared by every part of the core. Each has one short, specific text.
#pragma once
#include <cstdint>

namespace p2pcdn {

enum class Errc : uint16_t {
  kOk = 0,
  // Frame and signaling decoding.
  kTruncated = 1,    // fewer bytes than the header or a declared field needs
  kBadVersion = 2,   // version byte is not one this build speaks
  kBadLength = 3,    // declared length disagrees with the bytes that arrived
  kUnknownType = 4,  // type byte names no message
  kOversize = 5,     // message or field larger than the negotiated limit
  kBadField = 6,     // a field holds a value the protocol forbids
  // Reassembly.
  kUnknownRequest = 20,    // DATA for a request that is not open
  kDuplicateRequest = 21,  // begin() for a request id already open
  kOverflow = 22,          // chunk reaches past the end of the requested range
  kOverlap = 23,           // chunk partly overlaps bytes already received
  kTooFragmented = 24,     // too many disjoint pieces: a peer dripping holes
  kMemoryCap = 25,         // opening the request would exceed the memory cap
  kHashMismatch = 26,      // complete body does not match the origin's hash
  kTooManyRequests = 27,   // request table full
  kNotComplete = 28,       // body asked for before every byte arrived
  kForeignRequest = 29,    // DATA from a peer for a request that was sent to another peer
  kNoFirstByte = 30,       // the peer sent nothing for a request in time
  kTooSlow = 31,           // the peer delivered below the minimum rate (a drip)
};

// Static text for logs and JS errors ("frame truncated", ...). Never null.
const char* describe(Errc code);

}  // namespace p2pcdn
