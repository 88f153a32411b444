#include "p2pcdn/peer_score.hpp"

#include <algorithm>

namespace p2pcdn {

PeerScore::PeerScore(const PeerScoreParams& params)
    : params_(params), rtt_ms_(params.prior_rtt_ms), bytes_per_ms_(params.prior_bytes_per_ms) {}

void PeerScore::on_rtt(double ms) {
  if (!(ms >= 0)) return;  // also drops NaN
  rtt_ms_ += params_.ewma_weight * (ms - rtt_ms_);
}

void PeerScore::on_transfer(uint64_t bytes, double ms) {
  if (bytes == 0 || !(ms > 0)) return;
  const double sample = static_cast<double>(bytes) / ms;
  bytes_per_ms_ += params_.ewma_weight * (sample - bytes_per_ms_);
}

double PeerScore::expected_cost_ms(uint64_t bytes) const {
  const double queued = static_cast<double>(bytes) * (1.0 + in_flight_);
  const double penalty = 1.0 + static_cast<double>(failures_) * failures_;
  return (rtt_ms_ + queued / std::max(bytes_per_ms_, 1e-3)) * penalty;
}

}  // namespace p2pcdn
