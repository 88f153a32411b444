#include "p2pcdn/piece_scheduler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <initializer_list>

#include "p2pcdn/frame.hpp"

namespace p2pcdn {
namespace {

constexpr uint64_t kPiece = 1 << 20;
constexpr PeerHandle kA = 1, kB = 2, kC = 3;

PieceScheduler scheduler(uint32_t pieces, PieceSchedulerLimits limits = {}) {
  return PieceScheduler(pieces, kPiece, uint64_t{pieces} * kPiece, limits);
}

std::vector<uint8_t> bitfield(uint32_t pieces, std::initializer_list<uint32_t> held) {
  std::vector<uint8_t> bits(piece_bitfield_size(pieces));
  for (uint32_t i : held) bits[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return bits;
}

std::vector<uint8_t> range_bitfield(uint32_t pieces, uint32_t first, uint32_t last) {
  std::vector<uint8_t> bits(piece_bitfield_size(pieces));
  for (uint32_t i = first; i <= last; ++i) bits[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return bits;
}

// Asks `peer` for up to `count` pieces and completes each at once: the order it was given.
std::vector<uint32_t> take(PieceScheduler& s, PeerHandle peer, size_t count, uint64_t now) {
  std::vector<uint32_t> order;
  while (order.size() < count) {
    auto piece = s.next(peer, now);
    if (!piece) break;
    order.push_back(*piece);
    EXPECT_TRUE(s.done(peer, *piece, now).empty());
  }
  return order;
}

std::vector<uint32_t> iota(uint32_t first, uint32_t last) {
  std::vector<uint32_t> v;
  for (uint32_t i = first; i <= last; ++i) v.push_back(i);
  return v;
}

std::vector<uint32_t> concat(std::initializer_list<std::vector<uint32_t>> parts) {
  std::vector<uint32_t> v;
  for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
  return v;
}

TEST(PieceScheduler, FollowsTheNewestNeedFirst) {
  auto s = scheduler(100);
  s.add_peer(kA);
  s.need(0, 99);
  EXPECT_EQ(take(s, kA, 5, 0), iota(0, 4));
  s.need(50, 59);  // a seek: its range first, then the rest of the older need
  EXPECT_EQ(take(s, kA, 1000, 0), concat({iota(50, 59), iota(5, 49), iota(60, 99)}));
  EXPECT_TRUE(s.complete());
}

TEST(PieceScheduler, PiecesHadElsewhereAreSkippedAndTheirCopiesCancelled) {
  auto s = scheduler(6);
  s.add_peer(kA);
  s.need(0, 5);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.have(0), std::vector<PeerHandle>{kA});  // from the origin: cancel A's request
  EXPECT_TRUE(s.have(3).empty());
  EXPECT_TRUE(s.done(kA, 0, 1).empty());  // a late answer changes nothing
  EXPECT_EQ(take(s, kA, 10, 1), (std::vector<uint32_t>{1, 2, 4, 5}));
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(s.peer_stats(kA)->pieces_done, 4u);
}

TEST(PieceScheduler, APieceNeededAgainGoesFirst) {
  auto s = scheduler(10);
  s.add_peer(kA);
  s.need(0, 9);
  for (uint32_t i = 0; i < 4; ++i) s.have(i);  // went to the origin
  EXPECT_EQ(take(s, kA, 2, 0), iota(4, 5));
  s.need_again(2);  // the origin failed it
  s.need_again(2);  // twice is once
  s.need_again(99);
  EXPECT_EQ(take(s, kA, 100, 0), concat({{2}, iota(6, 9)}));
  EXPECT_TRUE(s.complete());
  s.need_again(7);  // a piece a peer delivered, lost since
  EXPECT_FALSE(s.complete());
  EXPECT_EQ(s.next(kA, 1), 7u);
}

// Peers serving their requests in order at a fixed rate, on a fake clock.
struct SimulatedPeer {
  PeerHandle handle;
  double bytes_per_ms;
  std::deque<uint32_t> queue;
  double front_bytes = 0;  // of the first queued piece, delivered so far
};

void run(PieceScheduler& s, std::vector<SimulatedPeer>& peers, uint64_t until_ms) {
  constexpr uint64_t kTick = 10;
  for (uint64_t now = 0; now <= until_ms; now += kTick) {
    for (SimulatedPeer& p : peers) {
      double budget = p.bytes_per_ms * kTick;
      while (budget > 0 && !p.queue.empty()) {
        const double step = std::min(budget, double(kPiece) - p.front_bytes);
        budget -= step;
        p.front_bytes += step;
        if (p.front_bytes < double(kPiece)) break;
        s.done(p.handle, p.queue.front(), now);
        p.queue.pop_front();
        p.front_bytes = 0;
      }
      while (auto piece = s.next(p.handle, now)) p.queue.push_back(*piece);
    }
  }
}

TEST(PieceScheduler, FasterPeerGetsMorePiecesInFlight) {
  auto s = scheduler(1000);
  s.need(0, 999);
  s.add_peer(kA);
  s.add_peer(kB);
  // 8 MiB/s: a second of work is 8 pieces, capped at 4; 0.5 MiB/s: half a piece, at least 1.
  std::vector<SimulatedPeer> peers = {{kA, 8.0 * kPiece / 1000, {}}, {kB, 0.5 * kPiece / 1000, {}}};
  run(s, peers, 10000);
  const PiecePeerStats fast = *s.peer_stats(kA), slow = *s.peer_stats(kB);
  EXPECT_EQ(fast.in_flight, 4u);
  EXPECT_EQ(slow.in_flight, 1u);
  EXPECT_NEAR(fast.rate_bytes_per_ms, 8.0 * kPiece / 1000, 0.1 * 8.0 * kPiece / 1000);
  EXPECT_NEAR(slow.rate_bytes_per_ms, 0.5 * kPiece / 1000, 0.1 * 0.5 * kPiece / 1000);
  EXPECT_GT(fast.pieces_done, 10 * slow.pieces_done);
  EXPECT_EQ(fast.bytes_done, fast.pieces_done * kPiece);
}

TEST(PieceScheduler, TimeSpentOnAFailedPieceLowersThePeersRate) {
  auto s = scheduler(8, {4, 1000, 2, 3});
  s.add_peer(kA);
  s.need(0, 7);
  EXPECT_EQ(s.next(kA, 0), 0u);
  s.done(kA, 0, 100);  // 1 MiB in 100 ms: ten pieces a second, capped at 4
  const double fast = s.peer_stats(kA)->rate_bytes_per_ms;
  EXPECT_EQ(s.next(kA, 100), 1u);
  EXPECT_FALSE(s.failed(kA, 1, 5100));  // 5 s for nothing
  EXPECT_LT(s.peer_stats(kA)->rate_bytes_per_ms, fast / 10);
  EXPECT_EQ(s.next(kA, 5100), 2u);
  EXPECT_EQ(s.next(kA, 5100), std::nullopt);  // one piece at a time now
}

TEST(PieceScheduler, UnmeasuredPeerGetsTwoPieces) {
  auto s = scheduler(10);
  s.add_peer(kA);
  s.need(0, 9);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_EQ(s.next(kA, 0), std::nullopt);
  EXPECT_EQ(s.peer_stats(kA)->rate_bytes_per_ms, 0.0);
}

TEST(PieceScheduler, AFailedPieceMovesToAnotherPeerAndNeverBack) {
  auto s = scheduler(4);
  s.add_peer(kA);
  s.add_peer(kB);
  s.need(0, 3);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_FALSE(s.failed(kA, 0, 0));  // first failure: A stays usable
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_EQ(s.next(kB, 0), 0u);
  EXPECT_FALSE(s.failed(kB, 0, 0));
  // Nobody usable may fetch 0 now: the origin must.
  EXPECT_EQ(s.orphans(), std::vector<uint32_t>{0});
  EXPECT_EQ(take(s, kA, 10, 0), (std::vector<uint32_t>{2, 3}));
  EXPECT_TRUE(s.done(kA, 1, 0).empty());
  EXPECT_EQ(s.next(kA, 0), std::nullopt);  // not even as an end-game copy
  EXPECT_FALSE(s.complete());
  s.have(0);
  EXPECT_TRUE(s.complete());
}

TEST(PieceScheduler, APieceGivenBackIsFoundByPeersThatScannedPastIt) {
  auto s = scheduler(8, {1, 1000, 2, 2});
  s.add_peer(kA);
  s.set_pieces(kB, bitfield(8, {0, 1, 2, 6}));
  s.need(0, 7);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kB, 0), 1u);
  EXPECT_TRUE(s.done(kB, 1, 1).empty());
  EXPECT_EQ(s.next(kB, 1), 2u);
  EXPECT_TRUE(s.done(kB, 2, 2).empty());
  EXPECT_EQ(s.next(kB, 2), 6u);  // B's scan is past 0 now
  EXPECT_TRUE(s.done(kB, 6, 3).empty());
  EXPECT_EQ(s.next(kB, 3), std::nullopt);
  EXPECT_FALSE(s.failed(kA, 0, 0));
  EXPECT_EQ(s.next(kB, 3), 0u);
  s.cancel(kB, 0);
  EXPECT_EQ(s.next(kA, 3), 3u);  // A failed 0
  EXPECT_EQ(s.next(kB, 3), 0u);
  EXPECT_EQ(s.remove_peer(kB), std::vector<uint32_t>{0});
  s.set_pieces(kC, bitfield(8, {0}));
  EXPECT_EQ(s.next(kC, 3), 0u);
}

TEST(PieceScheduler, APeerIsDroppedAfterMaxFailuresAndStaysDropped) {
  auto s = scheduler(8);
  s.add_peer(kA);
  s.need(0, 7);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_FALSE(s.failed(kA, 0, 0));
  EXPECT_TRUE(s.failed(kA, 1, 0));
  EXPECT_TRUE(s.peer_stats(kA)->dropped);
  EXPECT_EQ(s.peer_stats(kA)->failures, 2u);
  EXPECT_EQ(s.next(kA, 0), std::nullopt);
  EXPECT_EQ(s.orphans(), iota(0, 7));
  s.add_peer(kA);  // a new HAVE from it changes nothing
  EXPECT_EQ(s.next(kA, 0), std::nullopt);
  EXPECT_TRUE(s.remove_peer(kA).empty());
  EXPECT_EQ(s.set_pieces(kA, bitfield(8, {0, 1, 2})), Errc::kOk);
  EXPECT_EQ(s.next(kA, 0), std::nullopt);
  EXPECT_EQ(s.orphans(), iota(0, 7));
}

TEST(PieceScheduler, DroppingAPeerLeavesItsOtherPiecesToRemovePeer) {
  auto s = scheduler(8, {4, 1000, 2, 1});
  s.add_peer(kA);
  s.need(0, 7);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_TRUE(s.failed(kA, 0, 0));
  EXPECT_EQ(s.remove_peer(kA), std::vector<uint32_t>{1});
}

TEST(PieceScheduler, RemovePeerReturnsItsPiecesInFlight) {
  auto s = scheduler(6);
  s.add_peer(kA);
  s.add_peer(kB);
  s.need(0, 5);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_EQ(s.next(kB, 0), 2u);
  EXPECT_EQ(s.next(kB, 0), 3u);
  EXPECT_EQ(s.remove_peer(kA), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(s.peer_stats(kA), std::nullopt);
  EXPECT_TRUE(s.remove_peer(kA).empty());
  EXPECT_TRUE(s.done(kB, 2, 10).empty());
  EXPECT_EQ(s.next(kB, 10), 0u);           // back in order, before 4
  EXPECT_TRUE(s.done(kA, 0, 10).empty());  // a removed peer's late answer is ignored
}

TEST(PieceScheduler, EndGameCopiesTheLastPiecesAndDoneNamesTheOtherCopy) {
  auto s = scheduler(4);
  s.add_peer(kA);
  s.add_peer(kB);
  s.need(0, 3);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_EQ(s.next(kB, 0), 2u);
  EXPECT_EQ(s.next(kB, 0), 3u);
  EXPECT_TRUE(s.done(kA, 0, 100).empty());
  // Nothing is left unrequested: A copies the earliest piece it is not already fetching.
  EXPECT_EQ(s.next(kA, 100), 2u);
  s.add_peer(kC);
  EXPECT_EQ(s.next(kC, 100), 1u);  // 2 already has max_copies copies
  EXPECT_EQ(s.next(kC, 100), 3u);
  EXPECT_EQ(s.done(kB, 2, 200), std::vector<PeerHandle>{kA});
  EXPECT_EQ(s.done(kC, 1, 200), std::vector<PeerHandle>{kA});
  EXPECT_TRUE(s.done(kA, 2, 200).empty());  // cancelled copy: ignored
  EXPECT_EQ(s.done(kB, 3, 300), std::vector<PeerHandle>{kC});
  EXPECT_TRUE(s.complete());
}

TEST(PieceScheduler, NoCopiesWhileUnrequestedPiecesRemain) {
  auto s = scheduler(10);
  s.add_peer(kA);
  s.set_pieces(kB, bitfield(10, {0, 1}));
  s.need(0, 9);
  EXPECT_EQ(s.next(kB, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_TRUE(s.done(kB, 0, 10).empty());
  EXPECT_EQ(s.next(kB, 10), std::nullopt);  // 1 is on track on A, and 2..9 are A's to do
}

TEST(PieceScheduler, ASlowPeersOverduePieceIsCopiedToAnIdleFastPeer) {
  auto s = scheduler(10);
  s.add_peer(kA);                              // slow, holds everything
  s.set_pieces(kB, range_bitfield(10, 0, 3));  // fast, holds 0..3
  s.need(0, 9);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), 1u);
  EXPECT_EQ(s.next(kB, 0), 2u);
  EXPECT_EQ(s.next(kB, 0), 3u);
  s.done(kB, 2, 50);
  s.done(kB, 3, 100);
  EXPECT_EQ(s.next(kB, 100), std::nullopt);  // A has no rate yet: no prediction to miss
  s.done(kA, 0, 3000);  // A: 1 MiB in 3 s, so piece 1 should take about 3 s more
  EXPECT_EQ(s.next(kA, 3000), std::nullopt);  // one piece of work at its rate
  EXPECT_EQ(s.next(kB, 5000), std::nullopt);
  EXPECT_EQ(s.next(kB, 7000), 1u);  // in flight for 7 s: more than twice the 3 s predicted
  EXPECT_EQ(s.done(kB, 1, 7100), std::vector<PeerHandle>{kA});
  EXPECT_EQ(s.next(kB, 7100), std::nullopt);  // 4..9: only A holds them
  EXPECT_EQ(s.next(kA, 7100), 4u);
}

TEST(PieceScheduler, OrphansAreNeededPiecesNobodyUsableHolds) {
  auto s = scheduler(16);
  EXPECT_TRUE(s.orphans().empty());  // nothing needed yet
  s.need(4, 11);
  EXPECT_EQ(s.orphans(), iota(4, 11));
  EXPECT_EQ(s.set_pieces(kA, range_bitfield(16, 0, 7)), Errc::kOk);
  EXPECT_EQ(s.orphans(), iota(8, 11));
  s.add_peer(kB);
  EXPECT_TRUE(s.orphans().empty());
  EXPECT_TRUE(s.remove_peer(kB).empty());
  EXPECT_EQ(s.next(kA, 0), 4u);
  s.have(9);
  EXPECT_EQ(s.orphans(), (std::vector<uint32_t>{8, 10, 11}));
  EXPECT_EQ(s.set_pieces(kA, bitfield(16, {})), Errc::kOk);  // replaces: holds nothing now
  EXPECT_EQ(s.orphans(), (std::vector<uint32_t>{5, 6, 7, 8, 10, 11}));  // 4 is in flight
}

TEST(PieceScheduler, PartialHoldersGetOnlyTheirPieces) {
  auto s = scheduler(20);
  s.set_pieces(kA, bitfield(20, {3, 17}));
  s.need(0, 19);
  EXPECT_EQ(take(s, kA, 10, 0), (std::vector<uint32_t>{3, 17}));
  EXPECT_EQ(s.set_pieces(kA, bitfield(20, {1})), Errc::kOk);
  EXPECT_EQ(take(s, kA, 10, 0), std::vector<uint32_t>{1});
}

TEST(PieceScheduler, BitfieldOfWrongSizeOrSpareBitsIsRejected) {
  auto s = scheduler(10);  // 2 bytes, 6 spare bits
  EXPECT_EQ(s.set_pieces(kA, bitfield(10, {0, 9})), Errc::kOk);
  EXPECT_EQ(s.set_pieces(kA, std::vector<uint8_t>{0xFF}), Errc::kBadLength);
  EXPECT_EQ(s.set_pieces(kA, std::vector<uint8_t>{0xFF, 0xC0, 0}), Errc::kBadLength);
  EXPECT_EQ(s.set_pieces(kA, ByteView()), Errc::kBadLength);
  EXPECT_EQ(s.set_pieces(kA, std::vector<uint8_t>{0xFF, 0xE0}), Errc::kBadField);
  s.need(0, 9);
  EXPECT_EQ(take(s, kA, 10, 0), (std::vector<uint32_t>{0, 9}));  // the good one still holds
  EXPECT_EQ(s.set_pieces(kB, std::vector<uint8_t>{1}), Errc::kBadLength);
  EXPECT_EQ(s.peer_stats(kB), std::nullopt);  // not even created
}

TEST(PieceScheduler, CancelGivesThePieceBackWithoutBlame) {
  auto s = scheduler(3);
  s.add_peer(kA);
  s.need(0, 2);
  EXPECT_EQ(s.next(kA, 0), 0u);
  s.cancel(kA, 0);
  EXPECT_EQ(s.peer_stats(kA)->in_flight, 0u);
  EXPECT_EQ(s.peer_stats(kA)->failures, 0u);
  EXPECT_EQ(s.next(kA, 0), 0u);
}

TEST(PieceScheduler, MillionPiecesStreamQuickly) {
  const uint32_t n = kMaxPieceCount;
  const uint64_t piece = 16 * 1024;
  PieceScheduler s(n, piece, uint64_t{n} * piece - 100);
  EXPECT_EQ(s.piece_count(), n);
  EXPECT_EQ(s.piece_bytes(n - 1), piece - 100);
  const auto started = std::chrono::steady_clock::now();
  s.add_peer(kA);
  s.add_peer(kB);
  s.set_pieces(kC, range_bitfield(n, n - 1000, n - 1));  // holds only the tail
  s.need(0, n - 1);
  EXPECT_TRUE(s.orphans().empty());
  // Every tick each peer is given what it can take, and delivers it by the next.
  std::vector<std::pair<PeerHandle, uint32_t>> flying;
  for (uint64_t now = 0; !s.complete(); ++now) {
    if (now == 1000) s.need(n / 2, n / 2 + 99);  // a seek midway
    for (PeerHandle peer : {kA, kB, kC}) {
      while (auto p = s.next(peer, now)) flying.emplace_back(peer, *p);
    }
    ASSERT_FALSE(flying.empty()) << now;
    for (auto [peer, p] : flying) s.done(peer, p, now + 1);
    flying.clear();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto done = [&](PeerHandle peer) { return s.peer_stats(peer)->pieces_done; };
  EXPECT_EQ(done(kA) + done(kB) + done(kC), n);
  EXPECT_EQ(done(kC), 1000u);
  EXPECT_EQ(s.peer_stats(kA)->in_flight + s.peer_stats(kB)->in_flight, 0u);
  EXPECT_LT(seconds, 10.0);  // linear; a rescan per call would take hours
}

TEST(PieceScheduler, HostileAndOutOfRangeInputsDoNothing) {
  auto s = scheduler(8);
  s.add_peer(kA);
  s.add_peer(kB);
  s.need(8, 20);  // past the end
  s.need(5, 2);   // backwards
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(s.next(kA, 0), std::nullopt);
  s.need(6, 0xFFFFFFFF);  // clamped to 6..7
  EXPECT_TRUE(s.have(8).empty());
  EXPECT_TRUE(s.done(kA, 8, 0).empty());
  EXPECT_FALSE(s.failed(kA, 0xFFFFFFFF, 0));
  s.cancel(kA, 99);
  EXPECT_TRUE(s.done(kA, 7, 0).empty());   // never requested: ignored, not had
  EXPECT_FALSE(s.failed(kA, 7, 0));        // nor blamed
  EXPECT_EQ(s.next(kC, 0), std::nullopt);  // unknown peer
  EXPECT_EQ(s.next(kA, 0), 6u);
  EXPECT_TRUE(s.done(kB, 6, 0).empty());  // B was not asked: ignored, still in flight on A
  EXPECT_FALSE(s.failed(kB, 6, 0));
  EXPECT_FALSE(s.complete());
  EXPECT_EQ(s.peer_stats(kB)->pieces_done, 0u);
  EXPECT_EQ(s.peer_stats(kA)->in_flight, 1u);
  EXPECT_TRUE(s.done(kA, 6, 5).empty());
  EXPECT_EQ(take(s, kA, 10, 5), std::vector<uint32_t>{7});
  EXPECT_TRUE(s.complete());
}

TEST(PieceScheduler, InconsistentLayoutHasNoPieces) {
  struct Layout {
    uint32_t count;
    uint64_t piece_size;
    uint64_t file_size;
  };
  const Layout layouts[] = {{0, kPiece, 0},
                            {3, kPiece, 2 * kPiece},  // two pieces, not three
                            {3, 0, 3},
                            {kMaxPieceCount + 1, 1, kMaxPieceCount + 1}};
  for (const Layout& l : layouts) {
    PieceScheduler s(l.count, l.piece_size, l.file_size);
    EXPECT_EQ(s.piece_count(), 0u);
    s.need(0, 10);
    s.add_peer(kA);
    EXPECT_EQ(s.next(kA, 0), std::nullopt);
    EXPECT_EQ(s.set_pieces(kA, ByteView()), Errc::kBadField);
    EXPECT_EQ(s.piece_bytes(0), 0u);
  }
  EXPECT_EQ(PieceScheduler(3, kPiece, 2 * kPiece + 1).piece_count(), 3u);
  EXPECT_EQ(PieceScheduler(3, kPiece, 2 * kPiece + 1).piece_bytes(2), 1u);
}

TEST(PieceScheduler, LimitsOfZeroAreRaisedToOne) {
  auto s = scheduler(4, {0, 1000, 0, 0});
  s.add_peer(kA);
  s.need(0, 3);
  EXPECT_EQ(s.next(kA, 0), 0u);
  EXPECT_EQ(s.next(kA, 0), std::nullopt);  // one in flight at most
  EXPECT_TRUE(s.failed(kA, 0, 0));         // one failure drops it
}

}  // namespace
}  // namespace p2pcdn
