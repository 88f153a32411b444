// Checks every fuzz harness uses: abort on a broken invariant (libFuzzer reports it), byte
// equality of an encoding, and which errors a decoder may return.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/errc.hpp"

namespace p2pcdn::fuzz {

inline void check(bool condition) {
  if (!condition) std::abort();
}

inline bool same(const std::vector<uint8_t>& bytes, ByteView message) {
  return bytes.size() == message.size && std::equal(bytes.begin(), bytes.end(), message.data);
}

inline bool is_decode_error(Errc error) {
  return error == Errc::kTruncated || error == Errc::kBadVersion || error == Errc::kBadLength ||
         error == Errc::kUnknownType || error == Errc::kOversize || error == Errc::kBadField;
}

}  // namespace p2pcdn::fuzz
