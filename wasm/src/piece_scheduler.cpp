#include "p2pcdn/piece_scheduler.hpp"

#include <algorithm>

#include "p2pcdn/frame.hpp"

namespace p2pcdn {
namespace {

// Weight of the newest piece in a peer's rate: adapts within a few pieces.
constexpr double kRateWeight = 0.25;
// A peer not measured yet gets this many pieces: enough to measure it, little to lose.
constexpr size_t kUnmeasuredCapacity = 2;
// A piece in flight this many times longer than its peer's rate predicts may be copied.
constexpr uint64_t kOverdueFactor = 2;
constexpr size_t kMaxCopiesCap = 255;  // copies_ is a uint8_t per piece

bool consistent_layout(uint32_t piece_count, uint64_t piece_size, uint64_t file_size) {
  if (piece_count == 0 || piece_count > kMaxPieceCount || piece_size == 0) return false;
  const uint64_t pieces = file_size / piece_size + (file_size % piece_size != 0 ? 1 : 0);
  return pieces == piece_count;
}

PieceSchedulerLimits sane(PieceSchedulerLimits l) {
  l.max_in_flight_per_peer = std::max<size_t>(l.max_in_flight_per_peer, 1);
  l.max_copies = std::clamp<size_t>(l.max_copies, 1, kMaxCopiesCap);
  l.max_failures_per_peer = std::max<size_t>(l.max_failures_per_peer, 1);
  return l;
}

}  // namespace

PieceScheduler::PieceScheduler(uint32_t piece_count, uint64_t piece_size, uint64_t file_size,
                               PieceSchedulerLimits limits)
    : piece_count_(consistent_layout(piece_count, piece_size, file_size) ? piece_count : 0),
      piece_size_(piece_count_ ? piece_size : 0),
      file_size_(piece_count_ ? file_size : 0),
      limits_(sane(limits)),
      needed_(piece_count_),
      had_(piece_count_),
      copies_(piece_count_) {}

uint64_t PieceScheduler::piece_bytes(uint32_t piece) const {
  if (piece >= piece_count_) return 0;
  if (piece + 1 < piece_count_) return piece_size_;
  return file_size_ - uint64_t{piece} * piece_size_;
}

// --- what is needed ---

void PieceScheduler::need(uint32_t first, uint32_t last) {
  if (first >= piece_count_) return;
  last = std::min(last, piece_count_ - 1);
  if (first > last) return;
  drop_from_order(first, last);
  order_.insert(order_.begin(), Range{first, last});
  for (uint32_t i = first; i <= last; ++i) {
    if (needed_[i]) continue;
    needed_[i] = true;
    if (had_[i]) continue;
    ++needed_left_;
    if (copies_[i] == 0) ++unrequested_;
  }
  ++epoch_;
}

// Older ranges lose what the newest covers, so every needed piece sits in exactly one range.
void PieceScheduler::drop_from_order(uint32_t first, uint32_t last) {
  std::vector<Range> kept;
  kept.reserve(order_.size() + 1);
  for (const Range& r : order_) {
    if (r.first > r.last) continue;  // emptied as its pieces were had
    if (r.last < first || r.first > last) {
      kept.push_back(r);
      continue;
    }
    if (r.first < first) kept.push_back(Range{r.first, first - 1});
    if (r.last > last) kept.push_back(Range{last + 1, r.last});
  }
  order_ = std::move(kept);
}

std::vector<PeerHandle> PieceScheduler::have(uint32_t piece) {
  if (piece >= piece_count_) return {};
  return mark_had(piece);
}

void PieceScheduler::need_again(uint32_t piece) {
  if (piece >= piece_count_) return;
  if (had_[piece]) {
    had_[piece] = false;  // no flights: mark_had ended them
    if (needed_[piece]) {
      ++needed_left_;
      ++unrequested_;
    }
  }
  need(piece, piece);
}

std::vector<PeerHandle> PieceScheduler::mark_had(uint32_t piece) {
  std::vector<PeerHandle> fetching;
  if (had_[piece]) return fetching;
  had_[piece] = true;
  if (needed_[piece]) {
    --needed_left_;
    if (copies_[piece] == 0) --unrequested_;
  }
  for (size_t i = flights_.size(); i-- > 0;) {
    if (flights_[i].piece != piece) continue;
    fetching.push_back(flights_[i].peer);
    end_flight(i);
  }
  return fetching;
}

// --- who holds what ---

void PieceScheduler::add_peer(PeerHandle peer) {
  Peer& p = peers_[peer];
  p.holds_all = true;
  p.bitfield = {};
  p.cursor = Cursor{};
}

Errc PieceScheduler::set_pieces(PeerHandle peer, ByteView bitfield) {
  const Errc e = check_piece_bitfield(piece_count_, bitfield);
  if (e != Errc::kOk) return e;
  Peer& p = peers_[peer];
  p.holds_all = false;
  p.bitfield.assign(bitfield.data, bitfield.data + bitfield.size);
  p.cursor = Cursor{};
  return Errc::kOk;
}

std::vector<uint32_t> PieceScheduler::remove_peer(PeerHandle peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return {};
  std::vector<uint32_t> again;
  for (size_t i = flights_.size(); i-- > 0;) {
    if (flights_[i].peer != peer) continue;
    const uint32_t piece = flights_[i].piece;
    end_flight(i);
    if (unrequested(piece)) again.push_back(piece);
  }
  std::sort(again.begin(), again.end());
  // A dropped peer stays remembered, so a later HAVE from it does not make it usable again.
  if (it->second.dropped) {
    Peer tombstone;
    tombstone.dropped = true;
    it->second = std::move(tombstone);
  } else {
    peers_.erase(it);
  }
  return again;
}

PieceScheduler::Peer* PieceScheduler::usable_peer(PeerHandle peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() || it->second.dropped ? nullptr : &it->second;
}

bool PieceScheduler::holds(const Peer& p, uint32_t piece) {
  return p.holds_all || has_piece(ByteView(p.bitfield), piece);
}

bool PieceScheduler::failed_by(const Peer& p, uint32_t piece) {
  return std::find(p.failed.begin(), p.failed.end(), piece) != p.failed.end();
}

// --- handing out pieces ---

std::optional<uint32_t> PieceScheduler::next(PeerHandle peer, uint64_t now_ms) {
  Peer* p = usable_peer(peer);
  if (p == nullptr || p->in_flight >= capacity(*p)) return std::nullopt;
  std::optional<uint32_t> piece = first_unrequested(*p);
  if (!piece) piece = copy_to_rescue(peer, *p, now_ms);
  if (piece) start(peer, *p, *piece, now_ms);
  return piece;
}

size_t PieceScheduler::capacity(const Peer& p) const {
  if (p.pieces_done == 0) return std::min(kUnmeasuredCapacity, limits_.max_in_flight_per_peer);
  const double pieces =
      rate(p) * static_cast<double>(limits_.target_queue_ms) / static_cast<double>(piece_size_);
  const double most = static_cast<double>(limits_.max_in_flight_per_peer);
  return static_cast<size_t>(std::clamp(pieces, 1.0, most));
}

double PieceScheduler::rate(const Peer& p) {
  return p.decayed_bytes / std::max(p.decayed_ms, 1.0);
}

// Walks the priority order from the peer's cursor; had pieces at the front of a range are
// cut off for everyone, so streaming from the start costs O(1) per piece.
std::optional<uint32_t> PieceScheduler::first_unrequested(Peer& p) {
  if (p.cursor.epoch != epoch_) p.cursor = Cursor{0, 0, epoch_};
  for (size_t k = p.cursor.range; k < order_.size(); ++k) {
    Range& r = order_[k];
    while (r.first <= r.last && had_[r.first]) ++r.first;
    const uint32_t from = k == p.cursor.range ? std::max(p.cursor.piece, r.first) : r.first;
    for (uint32_t i = from; i <= r.last; ++i) {
      if (unrequested(i) && holds(p, i) && !failed_by(p, i)) {
        p.cursor = Cursor{k, i, epoch_};
        return i;
      }
    }
  }
  p.cursor = Cursor{order_.size(), 0, epoch_};
  return std::nullopt;
}

// The earliest-priority piece in flight elsewhere that this peer may also fetch: in the
// end-game (nothing unrequested is left) any of them, else only one no copy of which is on
// track, so a slow peer's piece moves to a faster one.
std::optional<uint32_t> PieceScheduler::copy_to_rescue(PeerHandle peer, const Peer& p,
                                                       uint64_t now_ms) const {
  const bool end_game = unrequested_ == 0;
  std::optional<uint32_t> best;
  for (const Flight& f : flights_) {
    if (best && priority(f.piece) >= priority(*best)) continue;
    if (copies_[f.piece] >= limits_.max_copies || !holds(p, f.piece) || failed_by(p, f.piece))
      continue;
    if (flying_on(peer, f.piece)) continue;
    if (!end_game && has_copy_on_track(f.piece, now_ms)) continue;
    best = f.piece;
  }
  return best;
}

// A peer shares its throughput among its pieces in flight, so each should take about
// in_flight x bytes / rate. Without a measured rate there is no prediction: the
// ChunkAssembler's deadlines judge such a peer.
bool PieceScheduler::overdue(const Flight& f, uint64_t now_ms) const {
  const Peer& p = peers_.at(f.peer);
  if (p.pieces_done == 0 || now_ms <= f.started_ms) return false;
  const double predicted_ms =
      static_cast<double>(piece_bytes(f.piece) * p.in_flight) / std::max(rate(p), 1e-9);
  return static_cast<double>(now_ms - f.started_ms) > kOverdueFactor * predicted_ms;
}

bool PieceScheduler::has_copy_on_track(uint32_t piece, uint64_t now_ms) const {
  return std::any_of(flights_.begin(), flights_.end(),
                     [&](const Flight& f) { return f.piece == piece && !overdue(f, now_ms); });
}

bool PieceScheduler::flying_on(PeerHandle peer, uint32_t piece) const {
  return find_flight(peer, piece) != flights_.size();
}

// (range, piece): lower goes first. Every piece in flight is needed, so it is in a range.
std::pair<size_t, uint32_t> PieceScheduler::priority(uint32_t piece) const {
  for (size_t k = 0; k < order_.size(); ++k) {
    if (order_[k].first <= piece && piece <= order_[k].last) return {k, piece};
  }
  return {order_.size(), piece};
}

void PieceScheduler::start(PeerHandle peer, Peer& p, uint32_t piece, uint64_t now_ms) {
  if (copies_[piece]++ == 0) --unrequested_;
  ++p.in_flight;
  flights_.push_back(Flight{piece, peer, now_ms});
}

size_t PieceScheduler::find_flight(PeerHandle peer, uint32_t piece) const {
  for (size_t i = 0; i < flights_.size(); ++i) {
    if (flights_[i].peer == peer && flights_[i].piece == piece) return i;
  }
  return flights_.size();
}

void PieceScheduler::end_flight(size_t index) {
  const Flight f = flights_[index];
  flights_[index] = flights_.back();
  flights_.pop_back();
  --peers_.at(f.peer).in_flight;
  if (--copies_[f.piece] == 0 && !had_[f.piece]) {
    ++unrequested_;
    rewind_cursors(f.piece);
  }
}

// The piece is unrequested again: every scan must reach it, and nothing before it changed.
void PieceScheduler::rewind_cursors(uint32_t piece) {
  const auto at = priority(piece);
  for (auto& [handle, p] : peers_) {
    if (at < std::make_pair(p.cursor.range, p.cursor.piece)) {
      p.cursor.range = at.first;
      p.cursor.piece = at.second;
    }
  }
}

// --- outcomes ---

std::vector<PeerHandle> PieceScheduler::done(PeerHandle peer, uint32_t piece, uint64_t now_ms) {
  if (piece >= piece_count_) return {};
  const size_t index = find_flight(peer, piece);
  if (index == flights_.size()) return {};
  Peer& p = peers_.at(peer);
  record_busy(p, flights_[index], piece_bytes(piece), now_ms);
  ++p.pieces_done;
  p.bytes_done += piece_bytes(piece);
  std::vector<PeerHandle> others = mark_had(piece);
  others.erase(std::remove(others.begin(), others.end(), peer), others.end());
  return others;
}

// Busy time, not time since the request: pieces in flight together share the peer's link, so
// each one's own duration would understate a peer by the number it was given.
void PieceScheduler::record_busy(Peer& p, const Flight& f, uint64_t bytes, uint64_t now_ms) {
  const uint64_t busy_since = std::max(f.started_ms, p.last_end_ms);
  const uint64_t busy_ms = now_ms > busy_since ? now_ms - busy_since : 0;
  p.decayed_bytes = p.decayed_bytes * (1 - kRateWeight) + static_cast<double>(bytes);
  p.decayed_ms = p.decayed_ms * (1 - kRateWeight) + static_cast<double>(busy_ms);
  p.last_end_ms = std::max(p.last_end_ms, now_ms);
}

bool PieceScheduler::failed(PeerHandle peer, uint32_t piece, uint64_t now_ms) {
  if (piece >= piece_count_) return false;
  const size_t index = find_flight(peer, piece);
  if (index == flights_.size()) return false;
  Peer& p = peers_.at(peer);
  record_busy(p, flights_[index], 0, now_ms);
  end_flight(index);
  p.failed.push_back(piece);
  if (p.dropped || p.failed.size() < limits_.max_failures_per_peer) return false;
  p.dropped = true;
  return true;
}

void PieceScheduler::cancel(PeerHandle peer, uint32_t piece) {
  if (piece >= piece_count_) return;
  const size_t index = find_flight(peer, piece);
  if (index == flights_.size()) return;
  end_flight(index);
}

// --- reports ---

std::vector<uint32_t> PieceScheduler::orphans() const {
  std::vector<const Peer*> usable;
  for (const auto& [handle, p] : peers_) {
    if (p.dropped) continue;
    if (p.holds_all && p.failed.empty()) return {};
    usable.push_back(&p);
  }
  std::vector<uint32_t> out;
  for (const Range& r : order_) {
    for (uint32_t i = r.first; i <= r.last; ++i) {
      if (!unrequested(i)) continue;
      const bool held = std::any_of(usable.begin(), usable.end(), [i](const Peer* p) {
        return holds(*p, i) && !failed_by(*p, i);
      });
      if (!held) out.push_back(i);
    }
  }
  return out;
}

std::optional<PiecePeerStats> PieceScheduler::peer_stats(PeerHandle peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  const Peer& p = it->second;
  return PiecePeerStats{p.pieces_done, p.bytes_done,    p.pieces_done ? rate(p) : 0.0,
                        p.in_flight,   p.failed.size(), p.dropped};
}

}  // namespace p2pcdn
