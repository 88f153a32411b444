// Per-peer message rate limit: `rate` tokens a second, up to `burst`. The clock is passed in.
#pragma once
#include <algorithm>
#include <cstdint>

namespace p2pcdn::server {

class TokenBucket {
 public:
  TokenBucket(double rate_per_s, double burst, uint64_t now_ms)
      : rate_per_ms_(rate_per_s / 1000.0), burst_(burst), tokens_(burst), last_ms_(now_ms) {}

  bool take(uint64_t now_ms) {
    if (now_ms > last_ms_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_ms_);
      last_ms_ = now_ms;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_per_ms_;
  double burst_;
  double tokens_;
  uint64_t last_ms_;
};

}  // namespace p2pcdn::server
