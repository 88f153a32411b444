#include "p2pcdn/chunk_assembler.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>

namespace p2pcdn {

ChunkAssembler::ChunkAssembler(AssemblerLimits limits) : limits_(limits) {}

Errc ChunkAssembler::begin(uint32_t request_id, PeerHandle owner, const RequestShape& shape,
                           uint64_t now_ms) {
  if (requests_.count(request_id) != 0) return Errc::kDuplicateRequest;
  if (shape.length == 0 || shape.offset + shape.length < shape.offset) return Errc::kBadField;
  if (requests_.size() >= limits_.max_requests) return Errc::kTooManyRequests;
  if (shape.length > limits_.max_total_bytes - bytes_allocated_) return Errc::kMemoryCap;
  // A 32-bit (Wasm) address space cannot hold more, whatever the cap says.
  if (shape.length > std::numeric_limits<size_t>::max()) return Errc::kMemoryCap;

  Pending p;
  p.shape = shape;
  p.buffer.reset(new (std::nothrow) uint8_t[static_cast<size_t>(shape.length)]);
  if (!p.buffer) return Errc::kMemoryCap;
  p.owner = owner;
  p.begun_ms = now_ms;
  p.last_progress_ms = now_ms;
  bytes_allocated_ += shape.length;
  requests_.emplace(request_id, std::move(p));
  return Errc::kOk;
}

Result<ChunkOutcome> ChunkAssembler::add(PeerHandle from, uint32_t request_id, uint64_t offset,
                                         ByteView payload, uint64_t now_ms) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return Errc::kUnknownRequest;
  Pending& p = it->second;
  // Checked before anything else: a stranger learns nothing and changes nothing.
  if (p.owner != from) return Errc::kForeignRequest;
  if (payload.size == 0) return Errc::kBadField;
  if (offset < p.shape.offset) return Errc::kOverflow;
  const uint64_t start = offset - p.shape.offset;
  if (start >= p.shape.length || payload.size > p.shape.length - start) return Errc::kOverflow;
  if (p.complete) return ChunkOutcome::kDuplicate;

  auto result = store(p, start, payload, now_ms);
  if (result.ok() && result.value() == ChunkOutcome::kComplete) {
    p.complete = true;
  } else if (!result.ok() && result.error() == Errc::kHashMismatch) {
    release(request_id);
  }
  return result;
}

Result<ChunkOutcome> ChunkAssembler::store(Pending& p, uint64_t start, ByteView payload,
                                           uint64_t now_ms) {
  const uint64_t end = start + payload.size;
  // The piece starting at or before `start`, and the first one after it.
  auto next = p.pieces.upper_bound(start);
  auto prev = next == p.pieces.begin() ? p.pieces.end() : std::prev(next);

  if (prev != p.pieces.end() && prev->second >= end) return ChunkOutcome::kDuplicate;
  if (prev != p.pieces.end() && prev->second > start) return Errc::kOverlap;
  if (next != p.pieces.end() && next->first < end) return Errc::kOverlap;

  const bool joins_prev = prev != p.pieces.end() && prev->second == start;
  const bool joins_next = next != p.pieces.end() && next->first == end;
  if (!joins_prev && !joins_next && p.pieces.size() >= limits_.max_fragments) {
    return Errc::kTooFragmented;
  }

  std::memcpy(p.buffer.get() + start, payload.data, payload.size);
  if (joins_prev && joins_next) {
    prev->second = next->second;
    p.pieces.erase(next);
  } else if (joins_prev) {
    prev->second = end;
  } else if (joins_next) {
    const uint64_t next_end = next->second;
    p.pieces.erase(next);
    p.pieces.emplace(start, next_end);
  } else {
    p.pieces.emplace(start, end);
  }
  p.received += payload.size;
  p.last_progress_ms = now_ms;
  // The owner's rate window opens with its first byte, so connection set-up and the first
  // byte's deadline are not counted twice.
  auto [flow, fresh] = flows_.try_emplace(p.owner);
  if (fresh) flow->second.window_start_ms = now_ms;
  flow->second.window_bytes += payload.size;
  flow->second.last_byte_ms = std::max(flow->second.last_byte_ms, now_ms);
  hash_new_prefix(p);

  if (p.received < p.shape.length) return ChunkOutcome::kAccepted;
  if (p.shape.expected_hash && p.hash.finish() != *p.shape.expected_hash) {
    return Errc::kHashMismatch;
  }
  return ChunkOutcome::kComplete;
}

void ChunkAssembler::hash_new_prefix(Pending& p) {
  if (!p.shape.expected_hash) return;
  auto first = p.pieces.begin();
  if (first == p.pieces.end() || first->first != 0 || first->second <= p.hashed_upto) return;
  p.hash.update(
      ByteView{p.buffer.get() + p.hashed_upto, static_cast<size_t>(first->second - p.hashed_upto)});
  p.hashed_upto = first->second;
}

Errc ChunkAssembler::preload(uint32_t request_id, ByteView bytes) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return Errc::kUnknownRequest;
  Pending& p = it->second;
  if (p.received != 0 || bytes.size == 0 || bytes.size >= p.shape.length) return Errc::kBadField;
  std::memcpy(p.buffer.get(), bytes.data, bytes.size);
  p.pieces.emplace(0, bytes.size);
  p.received = p.preloaded = bytes.size;
  hash_new_prefix(p);
  return Errc::kOk;
}

Result<ByteView> ChunkAssembler::prefix(uint32_t request_id) const {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return Errc::kUnknownRequest;
  const Pending& p = it->second;
  auto first = p.pieces.begin();
  const uint64_t end = first == p.pieces.end() || first->first != 0 ? 0 : first->second;
  return ByteView{p.buffer.get(), static_cast<size_t>(end)};
}

Result<ByteView> ChunkAssembler::body(uint32_t request_id) const {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return Errc::kUnknownRequest;
  if (!it->second.complete) return Errc::kNotComplete;
  return ByteView{it->second.buffer.get(), static_cast<size_t>(it->second.shape.length)};
}

std::optional<RequestProgress> ChunkAssembler::progress(uint32_t request_id) const {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return std::nullopt;
  const Pending& p = it->second;
  return RequestProgress{p.received, p.hashed_upto, p.shape.length, p.last_progress_ms, p.owner};
}

void ChunkAssembler::release(uint32_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  const PeerHandle owner = it->second.owner;
  bytes_allocated_ -= it->second.shape.length;
  requests_.erase(it);
  // An owner with nothing left open starts a fresh window with its next first byte.
  const bool still_open = std::any_of(requests_.begin(), requests_.end(), [owner](const auto& r) {
    return r.second.owner == owner && !r.second.complete;
  });
  if (still_open) return;
  auto flow = flows_.find(owner);
  if (flow == flows_.end()) return;
  remember_rate(owner, flow->second);
  flows_.erase(flow);
}

// The owner's last closed window, or the one its last byte ended if that lasted at least
// half a window (a burst of a few ms says nothing of a rate).
void ChunkAssembler::remember_rate(PeerHandle owner, const Flow& flow) {
  uint64_t rate = flow.last_rate;
  const uint64_t open_ms = flow.last_byte_ms - std::min(flow.last_byte_ms, flow.window_start_ms);
  if (open_ms > 0 && 2 * open_ms >= limits_.rate_window_ms)
    rate = flow.window_bytes * 1000 / open_ms;
  if (rate == 0) return;
  recent_[owner] = {rate, flow.last_byte_ms + limits_.rate_window_ms};
}

// Whether `owner` delivered too little in the window that has just closed; opens the next.
bool ChunkAssembler::below_rate(PeerHandle owner, Flow& flow, uint64_t now_ms) const {
  if (now_ms < flow.window_start_ms + limits_.rate_window_ms) return false;
  uint64_t lacking = 0;
  for (const auto& [id, p] : requests_) {
    if (p.owner == owner && !p.complete) lacking += p.shape.length - p.received;
  }
  const uint64_t elapsed = now_ms - flow.window_start_ms;
  const uint64_t wanted = limits_.min_bytes_per_second * elapsed / 1000;
  // Bytes of this window count towards what was lacking when it opened.
  const uint64_t required = std::min(wanted, lacking + flow.window_bytes);
  const bool slow = flow.window_bytes < required;
  flow.last_rate = flow.window_bytes * 1000 / std::max<uint64_t>(elapsed, 1);  // a 0 ms window
  flow.window_start_ms = now_ms;
  flow.window_bytes = 0;
  return slow;
}

// Whether the owner of `p` has sent nothing, for any request, for the first-byte timeout
// since `p` began. A clock that steps back never expires anything.
bool ChunkAssembler::silent_since_begin(const Pending& p, uint64_t now_ms) const {
  auto flow = flows_.find(p.owner);
  const uint64_t since =
      flow == flows_.end() ? p.begun_ms : std::max(p.begun_ms, flow->second.last_byte_ms);
  return now_ms > since && now_ms - since > limits_.first_byte_timeout_ms;
}

// Whether `owner`, below the minimum rate, was as fast as the fastest other owner (within a
// factor of two), both above the floor: then the page's own intake is the bottleneck. The
// others are those sending now and those that finished within the last window.
bool ChunkAssembler::slowed_with_others(PeerHandle owner, uint64_t now_ms) const {
  const uint64_t rate = flows_.at(owner).last_rate;
  if (rate < limits_.shared_slowness_floor_bytes_per_second) return false;
  uint64_t fastest_other = 0;
  for (const auto& [other, flow] : flows_) {
    if (other != owner) fastest_other = std::max(fastest_other, flow.last_rate);
  }
  for (const auto& [other, recent] : recent_) {
    if (other != owner && now_ms <= recent.until_ms)
      fastest_other = std::max(fastest_other, recent.bytes_per_second);
  }
  return fastest_other >= limits_.shared_slowness_floor_bytes_per_second &&
         fastest_other <= 2 * rate;
}

std::vector<Expired> ChunkAssembler::expire(uint64_t now_ms) {
  std::vector<Expired> expired;
  for (auto it = recent_.begin(); it != recent_.end();) {
    it = now_ms > it->second.until_ms ? recent_.erase(it) : std::next(it);
  }
  // Every window due is closed first, so each owner is weighed against the others' latest.
  std::vector<PeerHandle> slow;
  for (auto& [owner, flow] : flows_) {
    if (below_rate(owner, flow, now_ms)) slow.push_back(owner);
  }
  for (const PeerHandle owner : slow) {
    if (slowed_with_others(owner, now_ms)) continue;
    for (const auto& [id, p] : requests_) {
      if (p.owner == owner && !p.complete) {
        expired.push_back({id, owner, Errc::kTooSlow, flows_.at(owner).last_rate});
      }
    }
  }
  for (const auto& [id, p] : requests_) {
    if (!p.complete && p.received == p.preloaded && silent_since_begin(p, now_ms) &&
        std::none_of(expired.begin(), expired.end(),
                     [id = id](const Expired& e) { return e.request_id == id; })) {
      expired.push_back({id, p.owner, Errc::kNoFirstByte, 0});
    }
  }
  for (const Expired& e : expired) release(e.request_id);
  return expired;
}

}  // namespace p2pcdn
