// What we have learned about one remote peer: RTT and throughput (EWMA), work queued on
// it, failures, and whether it is banned for serving bytes that failed verification.
#pragma once
#include <cstdint>

namespace p2pcdn {

struct PeerScoreParams {
  double ewma_weight = 0.25;  // weight of a new sample: adapts within a few transfers
  // Optimistic priors so a peer never measured still gets tried.
  double prior_rtt_ms = 20.0;
  double prior_bytes_per_ms = 10'000.0;  // 10 MB/s, a fair local data channel
  // Consecutive failures after which a peer gets no work until it succeeds elsewhere.
  uint32_t max_consecutive_failures = 3;
};

class PeerScore {
 public:
  explicit PeerScore(const PeerScoreParams& params = {});

  void on_rtt(double ms);
  // One finished transfer: bytes delivered in ms of transfer time.
  void on_transfer(uint64_t bytes, double ms);
  void on_request_start() { ++in_flight_; }
  void on_request_end() {
    if (in_flight_ > 0) --in_flight_;
  }
  void on_failure() {
    ++failures_;
    ++consecutive_failures_;
  }
  void on_success() { consecutive_failures_ = 0; }
  // Served bytes that failed verification: never ask it again this session.
  void ban() { banned_ = true; }

  bool usable() const {
    return !banned_ && consecutive_failures_ < params_.max_consecutive_failures;
  }
  // Estimated milliseconds until this peer would deliver `bytes` if asked now: RTT plus
  // the transfer queued behind its in-flight work, inflated by its failure history.
  double expected_cost_ms(uint64_t bytes) const;

  double rtt_ms() const { return rtt_ms_; }
  double bytes_per_ms() const { return bytes_per_ms_; }
  uint32_t in_flight() const { return in_flight_; }
  uint32_t failures() const { return failures_; }
  bool banned() const { return banned_; }

 private:
  PeerScoreParams params_;
  double rtt_ms_;
  double bytes_per_ms_;
  uint32_t in_flight_ = 0;
  uint32_t failures_ = 0;
  uint32_t consecutive_failures_ = 0;
  bool banned_ = false;
};

}  // namespace p2pcdn
