// Decides which piece of one large file to ask which peer for, so that several peers serve
// different pieces at once. One scheduler per file a page fetches. It only decides: the
// caller sends the ranged REQUESTs, verifies each piece against its hash from the manifest,
// and reports back with done(), failed() or cancel().
//
// Order: pieces go out in the order of need() ranges, newest first (a seek comes first).
// Load: a peer gets about target_queue_ms of work at its measured rate, so a fast peer has
// more pieces in flight than a slow one. End-game and rescue: a peer with nothing new to do
// may fetch a copy of a piece already in flight elsewhere, once every needed piece is out or
// when that piece is far overdue on a slow peer; the first verified copy wins.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/errc.hpp"
#include "p2pcdn/peer_handle.hpp"

namespace p2pcdn {

struct PieceSchedulerLimits {
  size_t max_in_flight_per_peer = 4;  // pieces requested and not done, per peer
  uint64_t target_queue_ms = 1000;    // a peer gets about this much work, by its measured rate
  size_t max_copies = 2;              // one piece asked from at most this many peers at once
  size_t max_failures_per_peer = 2;   // failed pieces before a peer is dropped for this file
};

struct PiecePeerStats {
  uint64_t pieces_done = 0;
  uint64_t bytes_done = 0;
  double rate_bytes_per_ms = 0;  // 0 until its first piece is done
  size_t in_flight = 0;
  size_t failures = 0;
  bool dropped = false;  // gets no more pieces of this file
};

class PieceScheduler {
 public:
  // piece_count must be ceil(file_size / piece_size) and at most kMaxPieceCount; any other
  // layout gives a scheduler of no pieces (piece_count() == 0) that never hands one out.
  PieceScheduler(uint32_t piece_count, uint64_t piece_size, uint64_t file_size,
                 PieceSchedulerLimits limits = {});

  // Pieces first..last (inclusive, clamped to the file) go before every older need.
  void need(uint32_t first, uint32_t last);
  // The piece came from elsewhere (origin, cache). Returns the peers fetching it: cancel them.
  std::vector<PeerHandle> have(uint32_t piece);
  // A piece had before is wanted from peers after all (the origin failed it, or the copy was
  // lost): needed again, before every older need.
  void need_again(uint32_t piece);

  // A peer holding the whole file (HAVE).
  void add_peer(PeerHandle peer);
  // A peer holding exactly these pieces (HAVE_PIECES); replaces what it held before.
  // kBadLength or kBadField (check_piece_bitfield) leave everything unchanged.
  Errc set_pieces(PeerHandle peer, ByteView bitfield);
  // The link is gone. Returns its pieces that no other peer is fetching: needed again.
  std::vector<uint32_t> remove_peer(PeerHandle peer);

  // A piece to request from `peer` now, counted as in flight on it from now_ms; none when the
  // peer is unknown, dropped, at capacity or has nothing useful.
  std::optional<uint32_t> next(PeerHandle peer, uint64_t now_ms);
  // `peer` delivered `piece` and it verified. Returns the other peers fetching the same piece:
  // cancel them. Ignored (empty) unless the piece is in flight on that peer.
  std::vector<PeerHandle> done(PeerHandle peer, uint32_t piece, uint64_t now_ms);
  // `peer` failed `piece` (hash mismatch, NOT_FOUND, ERROR, deadline): never that piece from it
  // again, and the time it took counts against its rate. Returns true when this failure
  // dropped the peer for the file (remove_peer() then gives back what else it was fetching).
  // Ignored (false) unless the piece is in flight on that peer.
  bool failed(PeerHandle peer, uint32_t piece, uint64_t now_ms);
  // The caller did not send, or withdrew, the request for reasons of its own: the piece is
  // needed again and the peer is not blamed.
  void cancel(PeerHandle peer, uint32_t piece);

  // Needed pieces not in flight that no usable peer holds, in priority order: the caller
  // takes them from the origin and reports have(). O(needed pieces x peers) unless a usable
  // peer holds every piece; call it after something changed, not on a timer.
  std::vector<uint32_t> orphans() const;
  // Every needed piece is had (also true before any need()).
  bool complete() const { return needed_left_ == 0; }

  uint32_t piece_count() const { return piece_count_; }
  uint64_t piece_bytes(uint32_t piece) const;  // the last piece may be shorter; 0 out of range
  std::optional<PiecePeerStats> peer_stats(PeerHandle peer) const;

 private:
  struct Range {
    uint32_t first;  // advanced past had pieces as they are found
    uint32_t last;
  };
  // Where a peer's scan for an unrequested piece resumes: nothing before it is useful to the
  // peer. Moved back when a piece becomes unrequested again; restarted when the order or
  // the peer's pieces change (epoch).
  struct Cursor {
    size_t range = 0;
    uint32_t piece = 0;
    uint64_t epoch = ~uint64_t{0};
  };
  struct Peer {
    bool holds_all = false;
    std::vector<uint8_t> bitfield;  // when !holds_all
    std::vector<uint32_t> failed;   // pieces never again from this peer
    bool dropped = false;
    size_t in_flight = 0;
    Cursor cursor;
    uint64_t pieces_done = 0;
    uint64_t bytes_done = 0;
    // Bytes and busy milliseconds, both decayed on every piece done: their ratio is the
    // peer's recent throughput, whatever number of pieces shared it.
    double decayed_bytes = 0;
    double decayed_ms = 0;
    uint64_t last_end_ms = 0;  // when its last piece was done or failed
  };
  struct Flight {
    uint32_t piece;
    PeerHandle peer;
    uint64_t started_ms;
  };

  Peer* usable_peer(PeerHandle peer);
  static bool holds(const Peer& p, uint32_t piece);
  static bool failed_by(const Peer& p, uint32_t piece);
  bool unrequested(uint32_t piece) const { return !had_[piece] && copies_[piece] == 0; }
  size_t capacity(const Peer& p) const;
  static double rate(const Peer& p);
  bool overdue(const Flight& f, uint64_t now_ms) const;
  bool has_copy_on_track(uint32_t piece, uint64_t now_ms) const;
  bool flying_on(PeerHandle peer, uint32_t piece) const;
  std::pair<size_t, uint32_t> priority(uint32_t piece) const;
  size_t find_flight(PeerHandle peer, uint32_t piece) const;

  void drop_from_order(uint32_t first, uint32_t last);
  std::optional<uint32_t> first_unrequested(Peer& p);
  std::optional<uint32_t> copy_to_rescue(PeerHandle peer, const Peer& p, uint64_t now_ms) const;
  void start(PeerHandle peer, Peer& p, uint32_t piece, uint64_t now_ms);
  void end_flight(size_t index);
  void rewind_cursors(uint32_t piece);
  std::vector<PeerHandle> mark_had(uint32_t piece);
  void record_busy(Peer& p, const Flight& f, uint64_t bytes, uint64_t now_ms);

  uint32_t piece_count_;
  uint64_t piece_size_;
  uint64_t file_size_;
  PieceSchedulerLimits limits_;
  std::vector<bool> needed_;
  std::vector<bool> had_;
  std::vector<uint8_t> copies_;  // flights per piece, at most limits_.max_copies
  size_t needed_left_ = 0;       // needed and not had
  size_t unrequested_ = 0;       // needed, not had, not in flight
  std::vector<Range> order_;     // newest need first; disjoint
  uint64_t epoch_ = 0;
  std::unordered_map<PeerHandle, Peer> peers_;
  std::vector<Flight> flights_;  // at most peers x max_in_flight_per_peer
};

}  // namespace p2pcdn
