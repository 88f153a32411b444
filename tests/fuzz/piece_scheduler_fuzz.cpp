// Drives one PieceScheduler with a stream of operations read from the input
// (piece_scheduler_input.hpp): need, have, add_peer, set_pieces (bitfields of right and wrong
// sizes, spare bits set or not), remove_peer, next, done, failed and cancel on pairs in flight
// and on arbitrary ones, orphans, a clock that mostly moves forward. A model kept here from
// what the scheduler was told and what it answered checks, through the public interface only,
// what piece_scheduler.hpp promises:
// - layout: piece_count() is the count for a consistent layout, else 0; piece_bytes() is the
//   piece size but for the last piece, which ends the file; 0 out of range.
// - next() hands a piece only to a known peer that is not dropped (once dropped, never again,
//   even after remove_peer and a new HAVE); the piece is in range, needed, not had, held by
//   the peer (its last HAVE or accepted HAVE_PIECES), not failed by it since it was added, not
//   already in flight on it; the peer stays within max_in_flight_per_peer and the piece within
//   max_copies (limits of 0 are taken as 1: asserting at most 1 is weaker than at most 0).
//   A piece nobody is fetching is the first, in need() order (newest range first, each range
//   from its first piece), of those the peer may fetch; a copy of a piece in flight elsewhere
//   only when the peer has nothing new to fetch, and before the end-game (some needed piece
//   not out) only when a copy in flight is overdue: its peer has a measured rate and time
//   has passed. A usable peer with nothing in flight and something new to fetch gets it.
// - have() and done() name exactly the other peers fetching the piece (they are cancelled, as
//   the header asks), done() counts one piece and its bytes on the peer; remove_peer() gives
//   back exactly its pieces no other peer is fetching; failed() never that piece again from the
//   peer, true only when it drops a peer that was not dropped, and surely once the peer has
//   failed max_failures_per_peer pieces, its rate never up; cancel() blames nobody (failures,
//   dropped and rate unchanged).
// - done(), failed(), cancel() on a pair not in flight, have() out of range or of a piece had,
//   set_pieces() refused (with what check_piece_bitfield says), remove_peer() of an unknown
//   peer: nothing observable changes (complete(), peer_stats() of every peer, orphans() up to
//   256 pieces).
// - after every operation: complete() is exactly "every needed piece had", a known peer's
//   peer_stats() exists, with the model's count in flight and dropped flag, a rate that is 0
//   until a piece is done and finite.
// - orphans(): in need() order, each needed, not had, not in flight and held by no usable peer
//   that has not failed it; every needed piece not had, not in flight and held by no usable
//   peer at all is listed.
// - at the end every flight is cancelled and a new peer holding the whole file fetches what is
//   left: exactly in need() order, after which complete() is true.
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "fuzz_checks.hpp"
#include "p2pcdn/frame.hpp"
#include "p2pcdn/piece_scheduler.hpp"
#include "piece_scheduler_input.hpp"
#include "split_input.hpp"

using namespace p2pcdn;
using namespace p2pcdn::fuzz;
using namespace p2pcdn::fuzz::pieces;

namespace {

constexpr uint32_t kMaxFuzzPieces = 4096;
constexpr uint32_t kSmallFile = 64;
constexpr uint32_t kOrphansObservedUpTo = 256;
constexpr PeerHandle kSeeder = 0x5eed;  // not in kPeers: joins at the end

struct Layout {
  uint32_t count;
  uint64_t piece_size;
  uint64_t file_size;
};

constexpr uint64_t kHalf = uint64_t{1} << 63;
constexpr Layout kOddLayouts[] = {
    {0, 1024, 0},                                 // no pieces
    {3, 0, 3},                                    // pieces of no bytes
    {kMaxPieceCount + 1, 1, kMaxPieceCount + 1},  // over the cap
    {2, kHalf, kHalf + 1},                        // consistent: the last piece is one byte
    {1, ~uint64_t{0}, ~uint64_t{0}},              // consistent: one huge piece
    {4, 10, 41},                                  // five pieces, not four
    {1, 1, 0},                                    // an empty file
};

Layout read_layout(ByteReader& r) {
  const uint8_t kind = r.u8() % 8;
  const uint16_t count = r.u16();
  const uint16_t size = r.u16();
  const uint8_t shift = r.u8();
  const uint16_t tail = r.u16();
  if (kind == 7) return kOddLayouts[count % (sizeof(kOddLayouts) / sizeof(kOddLayouts[0]))];
  Layout l;
  // Mostly small files, where pieces run out, copies start and the file completes.
  l.count = count % (count < 0x8000 ? kSmallFile : kMaxFuzzPieces) + 1;
  l.piece_size = uint64_t{size + 1u} << (shift % 33);
  const uint64_t before_last = uint64_t{l.count - 1} * l.piece_size;
  if (kind == 5) {
    l.file_size = before_last;
  } else if (kind == 6) {
    l.file_size = before_last + l.piece_size + 1;
  } else {
    l.file_size = before_last + tail % l.piece_size + 1;
  }
  return l;
}

PieceSchedulerLimits read_limits(ByteReader& r) {
  PieceSchedulerLimits l;
  const uint8_t in_flight = r.u8();
  const uint16_t queue = r.u16();
  const uint8_t copies = r.u8();
  const uint8_t failures = r.u8();
  l.max_in_flight_per_peer = in_flight >= 250 ? 64 : in_flight % 9;
  l.target_queue_ms = queue == 0xffff ? ~uint64_t{0} : queue;
  l.max_copies = copies >= 250 ? copies : copies % 5;
  l.max_failures_per_peer = failures >= 250 ? 300 : failures % 5;
  return l;
}

bool consistent(const Layout& l) {
  if (l.count == 0 || l.count > kMaxPieceCount || l.piece_size == 0) return false;
  const uint64_t pieces = l.file_size / l.piece_size + (l.file_size % l.piece_size != 0 ? 1 : 0);
  return pieces == l.count;
}

bool same_stats(const std::optional<PiecePeerStats>& a, const std::optional<PiecePeerStats>& b) {
  if (!a || !b) return !a && !b;
  return a->pieces_done == b->pieces_done && a->bytes_done == b->bytes_done &&
         a->rate_bytes_per_ms == b->rate_bytes_per_ms && a->in_flight == b->in_flight &&
         a->failures == b->failures && a->dropped == b->dropped;
}

// What the scheduler was told about one peer of the pool.
struct PeerModel {
  bool live = false;  // an add_peer() or accepted set_pieces() since the last remove_peer()
  bool holds_all = false;
  std::vector<uint8_t> bitfield;  // when !holds_all
  std::vector<uint32_t> failed;   // since it was added
  size_t failures_ever = 0;
  bool dropped = false;  // for the file: survives remove_peer()
};

struct Flight {
  size_t peer;  // index into kPeers
  uint32_t piece;
  uint64_t started_ms;
};

// What can be seen from outside; an ignored call must leave it as it was.
struct Observed {
  bool complete = false;
  std::array<std::optional<PiecePeerStats>, kPeerCount> stats;
  std::vector<uint32_t> orphans;
};

class Harness {
 public:
  Harness(const Layout& layout, const PieceSchedulerLimits& limits)
      : limits_(limits),
        s_(layout.count, layout.piece_size, layout.file_size, limits),
        n_(s_.piece_count()),
        stamp_(n_),
        had_(n_),
        copies_(n_) {
    check(n_ == (consistent(layout) ? layout.count : 0));
    if (n_ != 0) {
      for (uint32_t p = 0; p + 1 < n_; ++p) check(s_.piece_bytes(p) == layout.piece_size);
      const uint64_t last = layout.file_size - uint64_t{n_ - 1} * layout.piece_size;
      check(last >= 1 && last <= layout.piece_size && s_.piece_bytes(n_ - 1) == last);
    }
    check(s_.piece_bytes(n_) == 0 && s_.piece_bytes(0xffffffff) == 0);
    check(s_.complete());
  }

  uint32_t piece_count() const { return n_; }
  size_t flight_count() const { return flights_.size(); }
  const Flight& flight(size_t i) const { return flights_[i]; }
  void advance(int64_t ms) {
    now_ = ms >= 0 ? now_ + static_cast<uint64_t>(ms)
                   : now_ - std::min(now_, static_cast<uint64_t>(-ms));
  }

  void need(uint32_t first, uint32_t last) {
    s_.need(first, last);
    if (first >= n_) return;
    last = std::min(last, n_ - 1);
    if (first > last) return;
    ++needs_;
    need_order_stale_ = true;
    for (uint32_t p = first; p <= last; ++p) {
      if (stamp_[p] == 0 && !had_[p]) ++wanted_left_;
      stamp_[p] = needs_;
    }
  }

  void have(uint32_t piece) {
    if (piece >= n_ || had_[piece]) {
      const Observed before = observe();
      check(s_.have(piece).empty());
      check(unchanged(before));
      return;
    }
    const std::vector<PeerHandle> fetching = s_.have(piece);
    check(same_peers(fetching, fetching_peers(piece, kPeerCount)));
    for (PeerHandle h : fetching) s_.cancel(h, piece);  // as the header asks
    mark_had(piece);
  }

  // A had piece becomes needed again, as the newest need; anything else is need(p, p).
  void need_again(uint32_t piece) {
    s_.need_again(piece);
    if (piece >= n_) return;
    if (had_[piece]) {
      had_[piece] = false;
      if (stamp_[piece] != 0) ++wanted_left_;
    }
    ++needs_;
    need_order_stale_ = true;
    if (stamp_[piece] == 0) ++wanted_left_;
    stamp_[piece] = needs_;
  }

  void add_peer(size_t i) {
    s_.add_peer(kPeers[i]);
    PeerModel& m = peers_[i];
    m.live = true;
    m.holds_all = true;
    m.bitfield.clear();
  }

  void set_pieces(size_t i, const std::vector<uint8_t>& bits) {
    HeapCopy copy{ByteView(bits)};  // exact size: a read past it is an ASan report
    const Errc expected = check_piece_bitfield(n_, copy.view());
    if (expected != Errc::kOk) {
      check(expected == Errc::kBadLength || expected == Errc::kBadField);
      const Observed before = observe();
      check(s_.set_pieces(kPeers[i], copy.view()) == expected);
      check(unchanged(before));
      return;
    }
    check(s_.set_pieces(kPeers[i], copy.view()) == Errc::kOk);
    PeerModel& m = peers_[i];
    m.live = true;
    m.holds_all = false;
    m.bitfield = bits;
  }

  void remove_peer(size_t i) {
    PeerModel& m = peers_[i];
    if (!m.live) {
      const Observed before = observe();
      check(s_.remove_peer(kPeers[i]).empty());
      check(unchanged(before));
      return;
    }
    std::vector<uint32_t> mine;
    for (size_t f = flights_.size(); f-- > 0;) {
      if (flights_[f].peer != i) continue;
      mine.push_back(flights_[f].piece);
      end_flight(f);
    }
    std::vector<uint32_t> again;
    for (uint32_t p : mine) {
      if (copies_[p] == 0) again.push_back(p);
    }
    std::sort(again.begin(), again.end());
    std::vector<uint32_t> given = s_.remove_peer(kPeers[i]);
    std::sort(given.begin(), given.end());
    check(given == again);
    PeerModel gone;  // a new link under the same handle starts afresh, but stays dropped
    gone.dropped = m.dropped;
    gone.failures_ever = m.failures_ever;
    m = std::move(gone);
  }

  // Returns whether next() gave a piece.
  bool next(size_t i) {
    const PeerModel& m = peers_[i];
    const std::optional<uint32_t> piece = s_.next(kPeers[i], now_);
    if (!piece) {
      // Nothing in flight is never "at capacity": such a peer would never get work again.
      if (usable(i) && in_flight(i) == 0 && limits_.max_in_flight_per_peer >= 1) {
        check(!best_new(i));
      }
      return false;
    }
    const uint32_t p = *piece;
    check(usable(i) && p < n_);
    check(stamp_[p] != 0 && !had_[p]);
    check(holds(m, p) && !failed_by(m, p));
    check(find_flight(i, p) == flights_.size());
    check(in_flight(i) + 1 <= std::max<size_t>(limits_.max_in_flight_per_peer, 1));
    check(copies_[p] + 1 <= std::max<size_t>(limits_.max_copies, 1));
    const std::optional<uint32_t> best = best_new(i);
    if (copies_[p] == 0) {
      check(best && *best == p);
    } else {
      check(!best);  // a copy only when there is nothing new for it
      if (!end_game()) {
        const bool overdue_somewhere =
            std::any_of(flights_.begin(), flights_.end(), [&](const Flight& f) {
              if (f.piece != p || f.started_ms >= now_) return false;
              const auto stats = s_.peer_stats(kPeers[f.peer]);
              return stats && stats->pieces_done > 0;
            });
        check(overdue_somewhere);
      }
    }
    flights_.push_back(Flight{i, p, now_});
    ++copies_[p];
    return true;
  }

  void next_all() {
    for (size_t i = 0; i < kPeerCount; ++i) {
      for (size_t k = 0; k <= limits_.max_in_flight_per_peer && next(i); ++k) {
      }
    }
  }

  void done(size_t i, uint32_t piece) {
    const PeerHandle h = kPeers[i];
    const size_t index = find_flight(i, piece);
    if (index == flights_.size()) {
      const Observed before = observe();
      check(s_.done(h, piece, now_).empty());
      check(unchanged(before));
      return;
    }
    const auto before = s_.peer_stats(h);
    check(before.has_value());
    const std::vector<PeerHandle> others = s_.done(h, piece, now_);
    check(same_peers(others, fetching_peers(piece, i)));
    const auto after = s_.peer_stats(h);
    check(after && after->pieces_done == before->pieces_done + 1);
    check(after->bytes_done == before->bytes_done + s_.piece_bytes(piece));
    check(after->failures == before->failures && after->dropped == before->dropped);
    for (PeerHandle other : others) s_.cancel(other, piece);  // as the header asks
    mark_had(piece);
  }

  void done_all(size_t i) {
    std::vector<uint32_t> mine;
    for (const Flight& f : flights_) {
      if (f.peer == i) mine.push_back(f.piece);
    }
    for (uint32_t p : mine) done(i, p);
  }

  void failed(size_t i, uint32_t piece) {
    const PeerHandle h = kPeers[i];
    const size_t index = find_flight(i, piece);
    if (index == flights_.size()) {
      const Observed before = observe();
      check(!s_.failed(h, piece, now_));
      check(unchanged(before));
      return;
    }
    PeerModel& m = peers_[i];
    const auto before = s_.peer_stats(h);
    check(before.has_value());
    const bool dropped = s_.failed(h, piece, now_);
    end_flight(index);
    m.failed.push_back(piece);
    ++m.failures_ever;
    const size_t most = std::max<size_t>(limits_.max_failures_per_peer, 1);
    if (m.dropped) check(!dropped);
    if (!m.dropped && m.failed.size() >= most) check(dropped);
    if (dropped) check(m.failures_ever >= most);
    m.dropped = m.dropped || dropped;
    const auto after = s_.peer_stats(h);
    check(after && after->failures == before->failures + 1);
    check(after->pieces_done == before->pieces_done && after->bytes_done == before->bytes_done);
    // The time it took counts against its rate: never up (but for rounding).
    check(after->rate_bytes_per_ms <= before->rate_bytes_per_ms * (1 + 1e-9));
  }

  void cancel(size_t i, uint32_t piece) {
    const PeerHandle h = kPeers[i];
    const size_t index = find_flight(i, piece);
    if (index == flights_.size()) {
      const Observed before = observe();
      s_.cancel(h, piece);
      check(unchanged(before));
      return;
    }
    const auto before = s_.peer_stats(h);
    check(before.has_value());
    s_.cancel(h, piece);
    end_flight(index);
    const auto after = s_.peer_stats(h);
    check(after && after->failures == before->failures && after->dropped == before->dropped);
    check(after->pieces_done == before->pieces_done && after->bytes_done == before->bytes_done);
    check(after->rate_bytes_per_ms == before->rate_bytes_per_ms);  // not blamed
  }

  std::vector<uint32_t> orphans() {
    const std::vector<uint32_t> out = s_.orphans();
    for (size_t k = 0; k < out.size(); ++k) {
      const uint32_t p = out[k];
      check(p < n_ && stamp_[p] != 0 && !had_[p] && copies_[p] == 0);
      if (k > 0) check(order_key(out[k - 1]) < order_key(p));
      for (size_t i = 0; i < kPeerCount; ++i) {
        check(!usable(i) || !holds(peers_[i], p) || failed_by(peers_[i], p));
      }
    }
    // Held by no usable peer at all: surely an orphan. (Held only by usable peers that failed
    // it is one too by the implementation, but "holds" in the header does not say so.)
    std::vector<bool> listed(n_);
    for (uint32_t p : out) listed[p] = true;
    for (uint32_t p = 0; p < n_; ++p) {
      if (stamp_[p] == 0 || had_[p] || copies_[p] != 0 || listed[p]) continue;
      bool held = false;
      for (size_t i = 0; i < kPeerCount && !held; ++i) held = usable(i) && holds(peers_[i], p);
      check(held);
    }
    return out;
  }

  void from_origin() {
    for (uint32_t p : orphans()) {
      check(s_.have(p).empty());  // an orphan is in flight nowhere
      mark_had(p);
    }
  }

  void check_state() const {
    check(s_.complete() == (wanted_left_ == 0));
    check(s_.piece_count() == n_);
    for (size_t i = 0; i < kPeerCount; ++i) {
      const auto stats = s_.peer_stats(kPeers[i]);
      if (!peers_[i].live) continue;
      check(stats.has_value());
      check(stats->in_flight == in_flight(i) && stats->dropped == peers_[i].dropped);
      check(std::isfinite(stats->rate_bytes_per_ms) && stats->rate_bytes_per_ms >= 0);
      if (stats->pieces_done == 0) check(stats->rate_bytes_per_ms == 0);
    }
  }

  // Every flight cancelled, a peer holding the whole file fetches the rest, in need() order.
  void finish() {
    while (!flights_.empty()) cancel(flights_.back().peer, flights_.back().piece);
    check_state();
    if (limits_.max_in_flight_per_peer == 0) return;
    std::vector<uint32_t> left;
    for (uint32_t p : in_need_order()) {
      if (!had_[p]) left.push_back(p);
    }
    s_.add_peer(kSeeder);
    size_t taken = 0;
    std::vector<uint32_t> batch;
    for (;;) {
      batch.clear();
      while (const auto p = s_.next(kSeeder, now_)) {
        check(taken < left.size() && *p == left[taken]);
        ++taken;
        batch.push_back(*p);
        check(batch.size() <= limits_.max_in_flight_per_peer);
      }
      if (batch.empty()) break;
      ++now_;
      for (uint32_t p : batch) check(s_.done(kSeeder, p, now_).empty());
    }
    check(taken == left.size());
    check(s_.complete());
  }

 private:
  static bool holds(const PeerModel& m, uint32_t p) {
    return m.holds_all || has_piece(ByteView(m.bitfield), p);
  }
  static bool failed_by(const PeerModel& m, uint32_t p) {
    return std::find(m.failed.begin(), m.failed.end(), p) != m.failed.end();
  }
  bool usable(size_t i) const { return peers_[i].live && !peers_[i].dropped; }

  // Lower goes first: the newest need() covering the piece, then the piece.
  uint64_t order_key(uint32_t p) const { return uint64_t{~stamp_[p]} << 32 | p; }

  const std::vector<uint32_t>& in_need_order() {
    if (!need_order_stale_) return need_order_;
    // A counting sort on the stamps, newest first; pieces of one stamp stay in order.
    std::vector<size_t> at(needs_ + 2);
    for (uint32_t p = 0; p < n_; ++p) {
      if (stamp_[p] != 0) ++at[needs_ - stamp_[p] + 1];
    }
    for (size_t k = 1; k < at.size(); ++k) at[k] += at[k - 1];
    need_order_.assign(at.back(), 0);
    for (uint32_t p = 0; p < n_; ++p) {
      if (stamp_[p] != 0) need_order_[at[needs_ - stamp_[p]]++] = p;
    }
    need_order_stale_ = false;
    return need_order_;
  }

  // The first piece in need() order that nobody is fetching and peer i may fetch.
  std::optional<uint32_t> best_new(size_t i) {
    for (uint32_t p : in_need_order()) {
      if (had_[p] || copies_[p] != 0) continue;
      if (holds(peers_[i], p) && !failed_by(peers_[i], p)) return p;
    }
    return std::nullopt;
  }

  // Every needed piece had or in flight.
  bool end_game() const {
    for (uint32_t p = 0; p < n_; ++p) {
      if (stamp_[p] != 0 && !had_[p] && copies_[p] == 0) return false;
    }
    return true;
  }

  size_t in_flight(size_t i) const {
    return static_cast<size_t>(std::count_if(flights_.begin(), flights_.end(),
                                             [i](const Flight& f) { return f.peer == i; }));
  }

  size_t find_flight(size_t i, uint32_t p) const {
    for (size_t f = 0; f < flights_.size(); ++f) {
      if (flights_[f].peer == i && flights_[f].piece == p) return f;
    }
    return flights_.size();
  }

  void end_flight(size_t f) {
    --copies_[flights_[f].piece];
    flights_.erase(flights_.begin() + static_cast<std::ptrdiff_t>(f));
  }

  // The peers fetching piece p, but peer `except`.
  std::vector<PeerHandle> fetching_peers(uint32_t p, size_t except) const {
    std::vector<PeerHandle> out;
    for (const Flight& f : flights_) {
      if (f.piece == p && f.peer != except) out.push_back(kPeers[f.peer]);
    }
    return out;
  }

  static bool same_peers(std::vector<PeerHandle> a, std::vector<PeerHandle> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
  }

  void mark_had(uint32_t p) {
    for (size_t f = flights_.size(); f-- > 0;) {
      if (flights_[f].piece == p) end_flight(f);
    }
    if (stamp_[p] != 0 && !had_[p]) --wanted_left_;
    had_[p] = true;
  }

  Observed observe() const {
    Observed o;
    o.complete = s_.complete();
    for (size_t i = 0; i < kPeerCount; ++i) o.stats[i] = s_.peer_stats(kPeers[i]);
    // orphans() costs pieces x peers: compared for smaller files only, to keep runs fast.
    if (n_ <= kOrphansObservedUpTo) o.orphans = s_.orphans();
    return o;
  }

  bool unchanged(const Observed& before) const {
    const Observed now = observe();
    if (now.complete != before.complete || now.orphans != before.orphans) return false;
    for (size_t i = 0; i < kPeerCount; ++i) {
      if (!same_stats(now.stats[i], before.stats[i])) return false;
    }
    return true;
  }

  PieceSchedulerLimits limits_;
  PieceScheduler s_;
  uint32_t n_;
  std::vector<uint32_t> stamp_;  // the newest need() covering each piece (1, 2, ...), 0 for none
  uint32_t needs_ = 0;
  std::vector<uint8_t> had_;
  std::vector<uint32_t> need_order_;  // the needed pieces, first first (in_need_order())
  bool need_order_stale_ = false;
  std::vector<size_t> copies_;  // flights per piece
  size_t wanted_left_ = 0;      // needed and not had
  std::vector<Flight> flights_;
  std::array<PeerModel, kPeerCount> peers_;
  uint64_t now_ = 0;
};

uint32_t read_piece(ByteReader& r, uint32_t n) {
  const uint16_t v = r.u16();
  if (v < kSpecialPieceFrom) return n == 0 ? v : v % n;
  const uint32_t special[] = {n, n + 1, n - 1, 0xffffffff, kMaxPieceCount, 0x80000000, 0, n / 2};
  return special[v - kSpecialPieceFrom];
}

size_t read_peer(ByteReader& r) {
  return r.u8() % kPeerCount;
}

std::vector<uint8_t> read_bitfield(ByteReader& r, uint32_t n) {
  const uint8_t mode = r.u8();
  const size_t right = piece_bitfield_size(n);
  size_t size = right;
  switch (mode & 3) {
    case kBitsOneMore:
      size = right + 1;
      break;
    case kBitsOneLess:
      size = right == 0 ? 0 : right - 1;
      break;
    case kBitsAnySize:
      size = r.u8();
      break;
    default:
      break;
  }
  std::vector<uint8_t> bits(size);
  switch ((mode >> 2) & 3) {
    case kBitsFill:
      std::fill(bits.begin(), bits.end(), r.u8());
      break;
    case kBitsRange: {
      const uint32_t first = read_piece(r, n);
      const uint32_t last = read_piece(r, n);
      for (uint32_t p = first; p <= last && p / 8 < size; ++p) {
        bits[p / 8] |= static_cast<uint8_t>(0x80 >> (p % 8));
      }
      break;
    }
    case kBitsCycled: {
      std::vector<uint8_t> cycle(r.u8() % 32 + 1);
      for (uint8_t& b : cycle) b = r.u8();
      for (size_t k = 0; k < size; ++k) bits[k] = cycle[k % cycle.size()];
      break;
    }
    default:
      std::fill(bits.begin(), bits.end(), 0xff);
      break;
  }
  // Spare bits of the last byte (of the right size) cleared unless asked to keep them.
  if ((mode & kBitsKeepSpare) == 0 && n % 8 != 0 && right != 0 && right <= size) {
    bits[right - 1] &= static_cast<uint8_t>(0xff00 >> (n % 8));
  }
  return bits;
}

// A pair for done/failed/cancel: a flight, or any peer and piece.
std::pair<size_t, uint32_t> read_pair(ByteReader& r, const Harness& h) {
  const uint8_t sel = r.u8();
  if ((sel & 0x80) == 0 && h.flight_count() != 0) {
    const Flight& f = h.flight(sel % h.flight_count());
    return {f.peer, f.piece};
  }
  const size_t peer = (sel & 0x7f) % kPeerCount;
  return {peer, read_piece(r, h.piece_count())};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader r(ByteView(data, size));
  const Layout layout = read_layout(r);
  const PieceSchedulerLimits limits = read_limits(r);
  if (r.failed()) return 0;
  Harness h(layout, limits);
  const uint32_t n = h.piece_count();
  while (r.remaining() > 0 && !r.failed()) {
    const uint8_t code = r.u8();
    h.advance(kClockSteps[code >> 4]);
    switch (static_cast<PieceOp>(code & 15)) {
      case kNeed: {
        const uint32_t first = read_piece(r, n);
        h.need(first, read_piece(r, n));
        break;
      }
      case kHave:
        h.have(read_piece(r, n));
        break;
      case kAddPeer:
        h.add_peer(read_peer(r));
        break;
      case kSetPieces: {
        const size_t peer = read_peer(r);
        h.set_pieces(peer, read_bitfield(r, n));
        break;
      }
      case kRemovePeer:
        h.remove_peer(read_peer(r));
        break;
      case kNext:
      case kNext2:
        h.next(read_peer(r));
        break;
      case kNextAll:
        h.next_all();
        break;
      case kDone: {
        const auto [peer, piece] = read_pair(r, h);
        h.done(peer, piece);
        break;
      }
      case kFailed: {
        const auto [peer, piece] = read_pair(r, h);
        h.failed(peer, piece);
        break;
      }
      case kCancel: {
        const auto [peer, piece] = read_pair(r, h);
        h.cancel(peer, piece);
        break;
      }
      case kOrphans:
        h.orphans();
        break;
      case kDoneAll:
        h.done_all(read_peer(r));
        break;
      case kNeedAll:
        h.need(0, 0xffffffff);
        break;
      case kFromOrigin:
        h.from_origin();
        break;
      case kNeedAgain:
        h.need_again(read_piece(r, n));
        break;
    }
    h.check_state();
  }
  h.finish();
  return 0;
}
