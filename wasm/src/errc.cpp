#include "p2pcdn/errc.hpp"

namespace p2pcdn {

const char* describe(Errc code) {
  switch (code) {
    case Errc::kOk:
      return "ok";
    case Errc::kTruncated:
      return "message truncated";
    case Errc::kBadVersion:
      return "unsupported protocol version";
    case Errc::kBadLength:
      return "declared length does not match message";
    case Errc::kUnknownType:
      return "unknown message type";
    case Errc::kOversize:
      return "message larger than the negotiated limit";
    case Errc::kBadField:
      return "field holds a forbidden value";
    case Errc::kUnknownRequest:
      return "chunk for a request that is not open";
    case Errc::kDuplicateRequest:
      return "request id already open";
    case Errc::kOverflow:
      return "chunk reaches past the end of the range";
    case Errc::kOverlap:
      return "chunk overlaps bytes already received";
    case Errc::kTooFragmented:
      return "too many disjoint chunks";
    case Errc::kMemoryCap:
      return "reassembly memory cap reached";
    case Errc::kHashMismatch:
      return "body does not match the origin's hash";
    case Errc::kTooManyRequests:
      return "too many open requests";
    case Errc::kNotComplete:
      return "body is not complete";
    case Errc::kForeignRequest:
      return "chunk for a request sent to another peer";
    case Errc::kNoFirstByte:
      return "no first byte in time";
    case Errc::kTooSlow:
      return "transfer below the minimum rate";
  }
  return "unknown error";
}

}  // namespace p2pcdn
