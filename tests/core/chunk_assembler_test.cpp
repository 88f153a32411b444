#include "p2pcdn/chunk_assembler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace p2pcdn {
namespace {

std::vector<uint8_t> body_of(size_t n) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 131) ^ (i >> 8));
  return b;
}

ByteView slice(const std::vector<uint8_t>& b, size_t from, size_t n) {
  return ByteView(b.data() + from, n);
}

constexpr PeerHandle kPeer = 7;
constexpr PeerHandle kOther = 8;
constexpr PeerHandle kThird = 9;

RequestShape whole(const std::vector<uint8_t>& b, bool verify = true) {
  RequestShape s{0, b.size(), std::nullopt};
  if (verify) s.expected_hash = sha256(ByteView(b));
  return s;
}

TEST(ChunkAssembler, InOrderCompletesAndVerifies) {
  const auto b = body_of(100000);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  for (size_t at = 0; at < b.size(); at += 16384) {
    const size_t n = std::min<size_t>(16384, b.size() - at);
    auto r = a.add(kPeer, 1, at, slice(b, at, n), 1);
    ASSERT_TRUE(r.ok()) << describe(r.error());
    EXPECT_EQ(r.value(), at + n == b.size() ? ChunkOutcome::kComplete : ChunkOutcome::kAccepted);
    EXPECT_EQ(a.progress(1)->hashed_upto, at + n);  // hashed as it arrived
  }
  auto body = a.body(1);
  ASSERT_TRUE(body.ok());
  EXPECT_TRUE(std::equal(b.begin(), b.end(), body->data));
}

TEST(ChunkAssembler, OutOfOrderAnyPermutation) {
  const auto b = body_of(50 * 1000 + 17);
  const size_t chunk = 1000;
  std::vector<size_t> order((b.size() + chunk - 1) / chunk);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    ChunkAssembler a;
    ASSERT_EQ(a.begin(9, kPeer, whole(b), 0), Errc::kOk);
    Result<ChunkOutcome> last = ChunkOutcome::kAccepted;
    for (size_t i : order) {
      const size_t at = i * chunk;
      last = a.add(kPeer, 9, at, slice(b, at, std::min(chunk, b.size() - at)), 0);
      ASSERT_TRUE(last.ok()) << describe(last.error());
    }
    EXPECT_EQ(last.value(), ChunkOutcome::kComplete);
    EXPECT_TRUE(std::equal(b.begin(), b.end(), a.body(9)->data));
  }
}

TEST(ChunkAssembler, DuplicatesAreIgnored) {
  const auto b = body_of(3000);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.add(kPeer, 1, 1000, slice(b, 1000, 1000), 0).value(), ChunkOutcome::kAccepted);
  // Same chunk again, and a sub-range of it, even with different bytes: ignored, not stored.
  EXPECT_EQ(a.add(kPeer, 1, 1000, slice(b, 1000, 1000), 0).value(), ChunkOutcome::kDuplicate);
  const std::vector<uint8_t> evil(500, 0xEE);
  EXPECT_EQ(a.add(kPeer, 1, 1200, ByteView(evil), 0).value(), ChunkOutcome::kDuplicate);
  EXPECT_EQ(a.progress(1)->received, 1000u);
  ASSERT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 1000), 0).value(), ChunkOutcome::kAccepted);
  ASSERT_EQ(a.add(kPeer, 1, 2000, slice(b, 2000, 1000), 0).value(), ChunkOutcome::kComplete);
  EXPECT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 1000), 0).value(), ChunkOutcome::kDuplicate);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), a.body(1)->data));
}

TEST(ChunkAssembler, OverlapsAreRejectedAndChangeNothing) {
  const auto b = body_of(3000);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_TRUE(a.add(kPeer, 1, 1000, slice(b, 1000, 1000), 0).ok());
  EXPECT_EQ(a.add(kPeer, 1, 500, slice(b, 500, 1000), 0).error(),
            Errc::kOverlap);  // into the start
  EXPECT_EQ(a.add(kPeer, 1, 1500, slice(b, 1500, 1000), 0).error(),
            Errc::kOverlap);                                                    // past the end
  EXPECT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 3000), 0).error(), Errc::kOverlap);  // around it
  EXPECT_EQ(a.progress(1)->received, 1000u);
  ASSERT_TRUE(a.add(kPeer, 1, 0, slice(b, 0, 1000), 0).ok());
  EXPECT_EQ(a.add(kPeer, 1, 2000, slice(b, 2000, 1000), 0).value(), ChunkOutcome::kComplete);
}

TEST(ChunkAssembler, OverflowAndUnknownRequest) {
  const auto b = body_of(1000);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  EXPECT_EQ(a.add(kPeer, 1, 999, slice(b, 0, 2), 0).error(), Errc::kOverflow);
  EXPECT_EQ(a.add(kPeer, 1, 1000, slice(b, 0, 1), 0).error(), Errc::kOverflow);
  EXPECT_EQ(a.add(kPeer, 1, ~0ull, slice(b, 0, 1), 0).error(), Errc::kOverflow);
  EXPECT_EQ(a.add(kPeer, 2, 0, slice(b, 0, 1), 0).error(), Errc::kUnknownRequest);
  EXPECT_EQ(a.add(kPeer, 1, 0, ByteView(), 0).error(), Errc::kBadField);
  EXPECT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 1000), 0).value(), ChunkOutcome::kComplete);
}

TEST(ChunkAssembler, RangeRequestsUseAbsoluteOffsets) {
  const auto b = body_of(10000);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(3, kPeer, RequestShape{4000, 2000, sha256(slice(b, 4000, 2000))}, 0),
            Errc::kOk);
  EXPECT_EQ(a.add(kPeer, 3, 3999, slice(b, 3999, 10), 0).error(),
            Errc::kOverflow);  // before the range
  ASSERT_EQ(a.add(kPeer, 3, 5000, slice(b, 5000, 1000), 0).value(), ChunkOutcome::kAccepted);
  ASSERT_EQ(a.add(kPeer, 3, 4000, slice(b, 4000, 1000), 0).value(), ChunkOutcome::kComplete);
  EXPECT_TRUE(std::equal(b.begin() + 4000, b.begin() + 6000, a.body(3)->data));
}

TEST(ChunkAssembler, HashMismatchClosesTheRequest) {
  auto b = body_of(2000);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_TRUE(a.add(kPeer, 1, 0, slice(b, 0, 1000), 0).ok());
  b[1500] ^= 1;  // the peer lies in the second half
  EXPECT_EQ(a.add(kPeer, 1, 1000, slice(b, 1000, 1000), 0).error(), Errc::kHashMismatch);
  EXPECT_EQ(a.open_requests(), 0u);
  EXPECT_EQ(a.bytes_allocated(), 0u);
  EXPECT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 10), 0).error(), Errc::kUnknownRequest);
}

TEST(ChunkAssembler, UnverifiedRequestCompletesWithoutHash) {
  const auto b = body_of(500);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b, false), 0), Errc::kOk);
  EXPECT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 500), 0).value(), ChunkOutcome::kComplete);
  EXPECT_EQ(a.progress(1)->hashed_upto, 0u);
}

TEST(ChunkAssembler, BodyOnlyWhenComplete) {
  const auto b = body_of(500);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  EXPECT_EQ(a.body(1).error(), Errc::kNotComplete);
  EXPECT_EQ(a.body(2).error(), Errc::kUnknownRequest);
}

TEST(ChunkAssembler, BeginRejectsBadShapesAndDuplicates) {
  ChunkAssembler a;
  EXPECT_EQ(a.begin(1, kPeer, RequestShape{0, 0, std::nullopt}, 0), Errc::kBadField);
  EXPECT_EQ(a.begin(1, kPeer, RequestShape{~0ull, 2, std::nullopt}, 0), Errc::kBadField);
  ASSERT_EQ(a.begin(1, kPeer, RequestShape{0, 10, std::nullopt}, 0), Errc::kOk);
  EXPECT_EQ(a.begin(1, kPeer, RequestShape{0, 10, std::nullopt}, 0), Errc::kDuplicateRequest);
}

TEST(ChunkAssembler, MemoryCapAndRequestCap) {
  AssemblerLimits limits;
  limits.max_total_bytes = 10000;
  limits.max_requests = 3;
  ChunkAssembler a(limits);
  ASSERT_EQ(a.begin(1, kPeer, RequestShape{0, 6000, std::nullopt}, 0), Errc::kOk);
  EXPECT_EQ(a.begin(2, kPeer, RequestShape{0, 4001, std::nullopt}, 0), Errc::kMemoryCap);
  ASSERT_EQ(a.begin(2, kPeer, RequestShape{0, 4000, std::nullopt}, 0), Errc::kOk);
  EXPECT_EQ(a.bytes_allocated(), 10000u);
  EXPECT_EQ(a.begin(3, kPeer, RequestShape{0, ~0ull >> 1, std::nullopt}, 0), Errc::kMemoryCap);
  a.release(1);
  EXPECT_EQ(a.bytes_allocated(), 4000u);
  ASSERT_EQ(a.begin(3, kPeer, RequestShape{0, 1, std::nullopt}, 0), Errc::kOk);
  ASSERT_EQ(a.begin(4, kPeer, RequestShape{0, 1, std::nullopt}, 0), Errc::kOk);
  EXPECT_EQ(a.begin(5, kPeer, RequestShape{0, 1, std::nullopt}, 0), Errc::kTooManyRequests);
}

TEST(ChunkAssembler, FragmentCapStopsADrippingPeer) {
  AssemblerLimits limits;
  limits.max_fragments = 4;
  ChunkAssembler a(limits);
  const auto b = body_of(100);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  for (size_t at = 0; at < 8; at += 2) ASSERT_TRUE(a.add(kPeer, 1, at, slice(b, at, 1), 0).ok());
  EXPECT_EQ(a.add(kPeer, 1, 20, slice(b, 20, 1), 0).error(), Errc::kTooFragmented);
  // Filling a hole still works: it merges pieces instead of adding one.
  EXPECT_EQ(a.add(kPeer, 1, 1, slice(b, 1, 1), 0).value(), ChunkOutcome::kAccepted);
  EXPECT_EQ(a.add(kPeer, 1, 8, slice(b, 8, 92), 0).value(), ChunkOutcome::kAccepted);
}

TEST(ChunkAssembler, OnlyTheOwnerWritesIntoARequest) {
  const auto b = body_of(3000);
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 1000), 0).value(), ChunkOutcome::kAccepted);
  // Another peer's bytes, right or wrong, change nothing: not a byte, not the progress.
  std::vector<uint8_t> evil(1000, 0xEE);
  EXPECT_EQ(a.add(kOther, 1, 1000, ByteView(evil), 0).error(), Errc::kForeignRequest);
  EXPECT_EQ(a.add(kOther, 1, 1000, slice(b, 1000, 1000), 0).error(), Errc::kForeignRequest);
  EXPECT_EQ(a.progress(1)->received, 1000u);
  EXPECT_EQ(a.progress(1)->owner, kPeer);
  ASSERT_EQ(a.add(kPeer, 1, 1000, slice(b, 1000, 2000), 0).value(), ChunkOutcome::kComplete);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), a.body(1)->data));
}

// A transfer cut off part-way (a navigation) hands on its contiguous start; the next one
// preloads it and takes only the rest from its owner, checked whole against the hash.
TEST(ChunkAssembler, ACutOffTransferResumesFromItsPrefix) {
  const auto b = body_of(100000);
  ChunkAssembler first;
  ASSERT_EQ(first.begin(1, kPeer, whole(b), 0), Errc::kOk);
  EXPECT_EQ(first.prefix(1)->size, 0u);
  ASSERT_TRUE(first.add(kPeer, 1, 0, slice(b, 0, 30000), 1).ok());
  ASSERT_TRUE(first.add(kPeer, 1, 50000, slice(b, 50000, 10000), 1).ok());  // not contiguous
  const auto kept = first.prefix(1);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size, 30000u);
  const std::vector<uint8_t> start(kept->data, kept->data + kept->size);
  EXPECT_EQ(first.prefix(9).error(), Errc::kUnknownRequest);

  ChunkAssembler next;
  ASSERT_EQ(next.begin(2, kOther, whole(b), 0), Errc::kOk);
  ASSERT_EQ(next.preload(2, ByteView(start)), Errc::kOk);
  EXPECT_EQ(next.preload(2, ByteView(start)), Errc::kBadField);  // once, before any DATA
  EXPECT_EQ(next.progress(2)->hashed_upto, 30000u);
  ASSERT_EQ(next.add(kOther, 2, 30000, slice(b, 30000, 70000), 2).value(), ChunkOutcome::kComplete);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), next.body(2)->data));
}

TEST(ChunkAssembler, APreloadedStartOfOtherBytesFailsTheWholeHash) {
  const auto b = body_of(1000);
  auto wrong = std::vector<uint8_t>(b.begin(), b.begin() + 400);
  wrong[10] ^= 1;
  ChunkAssembler a;
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  EXPECT_EQ(a.preload(1, ByteView(b)), Errc::kBadField);  // the whole range: nothing to ask
  ASSERT_EQ(a.preload(1, ByteView(wrong)), Errc::kOk);
  EXPECT_EQ(a.add(kPeer, 1, 400, slice(b, 400, 600), 0).error(), Errc::kHashMismatch);
  EXPECT_EQ(a.open_requests(), 0u);
}

AssemblerLimits timing() {
  AssemblerLimits limits;
  limits.first_byte_timeout_ms = 1000;
  limits.min_bytes_per_second = 100'000;
  limits.rate_window_ms = 1000;
  return limits;
}

std::vector<uint32_t> ids_of(const std::vector<Expired>& expired) {
  std::vector<uint32_t> ids;
  for (const auto& e : expired) ids.push_back(e.request_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(ChunkAssembler, NoFirstByteInTimeExpires) {
  ChunkAssembler a(timing());
  const auto b = body_of(100);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.begin(3, kOther, whole(b), 0), Errc::kOk);
  ASSERT_TRUE(a.add(kOther, 3, 0, slice(b, 0, 100), 0).ok());  // complete: never expires
  EXPECT_TRUE(a.expire(1000).empty());
  EXPECT_TRUE(a.expire(500).empty());  // a clock stepping back expires nothing
  auto expired = a.expire(1001);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].request_id, 1u);
  EXPECT_EQ(expired[0].owner, kPeer);
  EXPECT_EQ(expired[0].reason, Errc::kNoFirstByte);
  EXPECT_EQ(a.add(kPeer, 1, 0, slice(b, 0, 10), 1002).error(), Errc::kUnknownRequest);
}

// A seeder sends its requests one after another (fewest bytes left first): one queued behind
// a transfer that is moving is not silent. Once the owner stops sending, it is.
TEST(ChunkAssembler, ARequestQueuedBehindAMovingOneIsNotSilent) {
  ChunkAssembler a(timing());
  const auto b = body_of(300'000);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.begin(2, kPeer, whole(b), 0), Errc::kOk);
  for (uint64_t t = 0; t < 3; ++t) {
    ASSERT_TRUE(a.add(kPeer, 1, t * 100'000, slice(b, t * 100'000, 100'000), 500 + t * 600).ok());
    EXPECT_TRUE(a.expire(1000 + t * 600).empty()) << "at " << 1000 + t * 600 << " ms";
  }
  EXPECT_TRUE(a.body(1).ok());
  a.release(1);
  // Request 2 began at 0 and has no byte; its owner last sent at 1700 ms.
  EXPECT_TRUE(a.expire(2600).empty());
  auto expired = a.expire(2701);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].request_id, 2u);
  EXPECT_EQ(expired[0].reason, Errc::kNoFirstByte);
}

// The attack that hung pages: answer at once, then a few bytes every so often. Each drop
// resets a "no progress" timer; the rate window cuts it within one window.
TEST(ChunkAssembler, ADripIsCutAsFastAsSilence) {
  ChunkAssembler a(timing());
  const auto b = body_of(1'000'000);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_TRUE(a.add(kPeer, 1, 0, slice(b, 0, 16), 10).ok());
  EXPECT_TRUE(a.expire(500).empty());
  ASSERT_TRUE(a.add(kPeer, 1, 16, slice(b, 16, 16), 900).ok());
  auto expired = a.expire(1010);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].reason, Errc::kTooSlow);
  EXPECT_EQ(expired[0].bytes_per_second, 32u);  // 32 bytes in the window of 1000 ms
  EXPECT_EQ(a.open_requests(), 0u);
  EXPECT_EQ(a.bytes_allocated(), 0u);
}

TEST(ChunkAssembler, RateIsJudgedPerOwnerOverAllItsRequests) {
  ChunkAssembler a(timing());
  const auto b = body_of(400'000);
  // Four requests to one peer share its link: 30 kB/s each is 120 kB/s for the peer.
  for (uint32_t id = 1; id <= 4; ++id) ASSERT_EQ(a.begin(id, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.begin(9, kOther, whole(b), 0), Errc::kOk);
  for (uint32_t id = 1; id <= 4; ++id) {
    ASSERT_TRUE(a.add(kPeer, id, 0, slice(b, 0, 30'000), 10).ok());
  }
  ASSERT_TRUE(a.add(kOther, 9, 0, slice(b, 0, 30'000), 10).ok());
  // The other peer sent 30 kB/s: too slow. This one's four requests together are not.
  auto expired = a.expire(1010);
  EXPECT_EQ(ids_of(expired), std::vector<uint32_t>{9});
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].reason, Errc::kTooSlow);
  EXPECT_EQ(expired[0].owner, kOther);
  EXPECT_EQ(a.open_requests(), 4u);
}

TEST(ChunkAssembler, TheLastBytesNeedNotFillAWindow) {
  ChunkAssembler a(timing());
  const auto b = body_of(150'000);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_TRUE(a.add(kPeer, 1, 0, slice(b, 0, 120'000), 0).ok());
  EXPECT_TRUE(a.expire(1000).empty());
  // 30 kB were all that was left: sent in the next window, they are enough.
  ASSERT_EQ(a.add(kPeer, 1, 120'000, slice(b, 120'000, 30'000), 1500).value(),
            ChunkOutcome::kComplete);
  EXPECT_TRUE(a.expire(2000).empty());
  EXPECT_TRUE(a.body(1).ok());
  // But silence is too slow, even with one byte missing.
  ASSERT_EQ(a.begin(2, kOther, whole(b), 0), Errc::kOk);
  ASSERT_TRUE(a.add(kOther, 2, 0, slice(b, 0, 149'999), 0).ok());
  EXPECT_TRUE(a.expire(1000).empty());
  EXPECT_EQ(ids_of(a.expire(2000)), std::vector<uint32_t>{2});
}

// A page taking from two peers through its own slow downlink sees both below the minimum
// at once: neither is judged. A drip beside them is, and so is a lone slow owner.
TEST(ChunkAssembler, OwnersSlowTogetherAreNotJudgedButADripBesideThemIs) {
  AssemblerLimits limits = timing();
  limits.shared_slowness_floor_bytes_per_second = 25'000;
  ChunkAssembler a(limits);
  const auto b = body_of(400'000);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.begin(2, kOther, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.begin(3, kThird, whole(b), 0), Errc::kOk);
  // 60 and 40 kB/s: both below 100 kB/s, within a factor of two of each other.
  ASSERT_TRUE(a.add(kPeer, 1, 0, slice(b, 0, 60'000), 0).ok());
  ASSERT_TRUE(a.add(kOther, 2, 0, slice(b, 0, 40'000), 0).ok());
  // A drip: 100 bytes a second.
  ASSERT_TRUE(a.add(kThird, 3, 0, slice(b, 0, 100), 0).ok());
  EXPECT_EQ(ids_of(a.expire(1000)), std::vector<uint32_t>{3});
  EXPECT_EQ(a.open_requests(), 2u);
  // The next window: kPeer carries on at 60 kB/s, kOther nearly stops (5 kB/s, below the
  // floor): no evidence of a shared cause any more, both are judged.
  ASSERT_TRUE(a.add(kPeer, 1, 60'000, slice(b, 60'000, 60'000), 1500).ok());
  ASSERT_TRUE(a.add(kOther, 2, 40'000, slice(b, 40'000, 5'000), 1500).ok());
  EXPECT_EQ(ids_of(a.expire(2000)), (std::vector<uint32_t>{1, 2}));
  // A lone slow owner is weighed against the minimum only.
  ASSERT_EQ(a.begin(4, kPeer, whole(b), 2000), Errc::kOk);
  ASSERT_TRUE(a.add(kPeer, 4, 0, slice(b, 0, 60'000), 2100).ok());
  EXPECT_EQ(ids_of(a.expire(3100)), std::vector<uint32_t>{4});
}

// An owner that has just finished at the same slow rate is evidence too: the one still
// sending is spared for a window after the other's last byte, then judged alone.
TEST(ChunkAssembler, AnOwnerThatJustFinishedSlowTooSparesTheOther) {
  AssemblerLimits limits = timing();
  limits.shared_slowness_floor_bytes_per_second = 25'000;
  ChunkAssembler a(limits);
  const auto b = body_of(400'000);
  const auto small = body_of(60'000);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.begin(2, kOther, whole(small), 0), Errc::kOk);
  ASSERT_TRUE(a.add(kPeer, 1, 0, slice(b, 0, 30'000), 0).ok());
  ASSERT_TRUE(a.add(kOther, 2, 0, slice(small, 0, 30'000), 0).ok());
  // kOther's last 30 kB at 800 ms: 60 kB in 0.8 s, then its request ends.
  ASSERT_EQ(a.add(kOther, 2, 30'000, slice(small, 30'000, 30'000), 800).value(),
            ChunkOutcome::kComplete);
  a.release(2);
  ASSERT_TRUE(a.add(kPeer, 1, 30'000, slice(b, 30'000, 30'000), 900).ok());
  EXPECT_TRUE(a.expire(1000).empty());  // 60 kB/s beside 75 kB/s that just finished
  ASSERT_TRUE(a.add(kPeer, 1, 60'000, slice(b, 60'000, 60'000), 1900).ok());
  EXPECT_EQ(ids_of(a.expire(2000)), std::vector<uint32_t>{1});  // kOther's evidence is a window old
}

// Preloaded bytes are not the owner's: it still owes a first byte in time.
TEST(ChunkAssembler, APreloadedRequestStillNeedsTheOwnersFirstByte) {
  ChunkAssembler a(timing());
  const auto b = body_of(1000);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 0), Errc::kOk);
  ASSERT_EQ(a.preload(1, slice(b, 0, 500)), Errc::kOk);
  auto expired = a.expire(1001);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].reason, Errc::kNoFirstByte);
}

// A window of 0 ms (a caller's configuration) judges at once, without dividing by zero.
TEST(ChunkAssembler, AZeroRateWindowIsJudgedWithoutFault) {
  AssemblerLimits limits = timing();
  limits.rate_window_ms = 0;
  ChunkAssembler a(limits);
  const auto b = body_of(1000);
  ASSERT_EQ(a.begin(1, kPeer, whole(b), 5), Errc::kOk);
  ASSERT_TRUE(a.add(kPeer, 1, 0, slice(b, 0, 10), 5).ok());
  EXPECT_TRUE(a.expire(5).empty());  // nothing was required of a window of no time
}

}  // namespace
}  // namespace p2pcdn
