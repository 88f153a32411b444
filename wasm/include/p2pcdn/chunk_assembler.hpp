// Reassembles a body from DATA chunks that may arrive out of order, from a peer that may
// lie. Chunks are copied once, straight into one preallocated buffer per request; the
// contiguous prefix is hashed as it grows, so verification needs no second pass.
// A request belongs to the peer it was sent to (its owner): bytes from any other peer are
// refused before anything is written, so one peer cannot spoil another's transfer. Time is
// judged by progress: a first byte within a deadline (or the owner busy with its other
// requests), then a minimum rate per owner over a window, so a peer that drips a few bytes
// is cut as fast as a silent one.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "p2pcdn/bytes.hpp"
#include "p2pcdn/peer_handle.hpp"
#include "p2pcdn/result.hpp"
#include "p2pcdn/sha256.hpp"

namespace p2pcdn {

struct AssemblerLimits {
  // Bodies being reassembled at once, in bytes: bounds what peers can make a page allocate.
  uint64_t max_total_bytes = 256ull << 20;
  // Disjoint pieces per request: a peer sending every other chunk cannot grow our state.
  size_t max_fragments = 1024;
  // Open requests at once.
  size_t max_requests = 256;
  // A request that has none of its bytes this long after begin(), and whose owner has sent
  // nothing for any of its requests meanwhile, is expired (kNoFirstByte). A seeder answers
  // from its own storage: seconds mean it will not answer. An owner sending other requests
  // first (a seeder sends the one with the fewest bytes left) is busy, not silent: its
  // queue is judged by the minimum rate below.
  uint64_t first_byte_timeout_ms = 2000;
  // Once an owner has sent a first byte, it must deliver min_bytes_per_second (summed over
  // all of its open requests, or what they still lack if that is less) in every window of
  // rate_window_ms, else all its open requests expire (kTooSlow). A bare data channel moves
  // 4-20 MiB/s on this project's machines; a peer below 256 KiB/s is slower than most origins.
  // The window is long enough that a browser starved of CPU for a second is not judged.
  uint64_t min_bytes_per_second = 256 * 1024;
  uint64_t rate_window_ms = 2000;
  // An owner below that minimum is not judged while another owner, measured in its last
  // window, was at most twice as fast: a page taking from several peers at once through its
  // own slow downlink or starved CPU sees them all slow, and the cause is its own (CI saw
  // three honest seeders struck within half a second). Only above this floor: a drip is
  // judged however many peers drip together, and a lone owner is judged as before.
  uint64_t shared_slowness_floor_bytes_per_second = 64 * 1024;
};

// Why a request expired, and whose it was.
struct Expired {
  uint32_t request_id;
  PeerHandle owner;
  Errc reason;                    // kNoFirstByte or kTooSlow
  uint64_t bytes_per_second = 0;  // kTooSlow: what the owner delivered in the window judged
};

struct RequestShape {
  uint64_t offset = 0;  // absolute offset of the range in the body
  uint64_t length = 0;  // bytes expected
  // Checked when the last byte arrives; absent: the caller verifies some other way.
  std::optional<Sha256Digest> expected_hash;
};

enum class ChunkOutcome : uint8_t {
  kAccepted = 0,   // new bytes stored
  kDuplicate = 1,  // every byte was already here; ignored
  kComplete = 2,   // last byte arrived and the hash (if any) matched
};

struct RequestProgress {
  uint64_t received = 0;     // bytes stored
  uint64_t hashed_upto = 0;  // contiguous bytes from the range start already hashed
  uint64_t length = 0;
  uint64_t last_progress_ms = 0;
  PeerHandle owner = 0;
};

class ChunkAssembler {
 public:
  explicit ChunkAssembler(AssemblerLimits limits = {});

  // Opens a request sent to `owner` and allocates its buffer. kDuplicateRequest,
  // kMemoryCap, kTooManyRequests or kBadField (zero length, range wraps) on failure.
  Errc begin(uint32_t request_id, PeerHandle owner, const RequestShape& shape, uint64_t now_ms);

  // Stores one chunk that arrived from peer `from`. kForeignRequest when the request was sent
  // to another peer. On kHashMismatch the request is closed; on other errors it stays open
  // and unchanged, so the caller decides whether to drop the peer.
  Result<ChunkOutcome> add(PeerHandle from, uint32_t request_id, uint64_t offset, ByteView payload,
                           uint64_t now_ms);

  // Bytes already held for the range's start (a transfer cut off before, e.g. by a
  // navigation), written before any DATA arrives: the owner is asked only for the rest, and
  // the whole range is checked against the expected hash as usual. kBadField if the request
  // has data already or `bytes` is not shorter than the range.
  Errc preload(uint32_t request_id, ByteView bytes);

  // The complete body, valid until release(); kNotComplete otherwise.
  Result<ByteView> body(uint32_t request_id) const;
  // The contiguous bytes from the range's start received so far (possibly none), valid until
  // the next call: what a cut-off transfer can resume from.
  Result<ByteView> prefix(uint32_t request_id) const;
  std::optional<RequestProgress> progress(uint32_t request_id) const;

  // Closes the request and frees its buffer. Unknown ids are ignored.
  void release(uint32_t request_id);

  // Closes every request whose owner missed the first-byte deadline or the minimum rate;
  // returns them with the reason.
  std::vector<Expired> expire(uint64_t now_ms);

  uint64_t bytes_allocated() const { return bytes_allocated_; }
  size_t open_requests() const { return requests_.size(); }

 private:
  struct Pending {
    RequestShape shape;
    PeerHandle owner = 0;
    uint64_t begun_ms = 0;
    std::unique_ptr<uint8_t[]> buffer;    // uninitialised: no pass to zero it
    std::map<uint64_t, uint64_t> pieces;  // start -> end, relative, merged, disjoint
    uint64_t received = 0;
    uint64_t preloaded = 0;  // of received, bytes preload() wrote: not the owner's
    uint64_t hashed_upto = 0;
    uint64_t last_progress_ms = 0;
    Sha256 hash;
    bool complete = false;
  };

  // An owner's delivery in the current rate window, from its first byte on.
  struct Flow {
    uint64_t window_start_ms = 0;
    uint64_t window_bytes = 0;
    uint64_t last_byte_ms = 0;
    uint64_t last_rate = 0;  // bytes a second in the last window closed; 0 before one
  };
  bool silent_since_begin(const Pending& p, uint64_t now_ms) const;

  Result<ChunkOutcome> store(Pending& p, uint64_t start, ByteView payload, uint64_t now_ms);
  void hash_new_prefix(Pending& p);
  // The rate of an owner whose requests all ended, kept as evidence for one window after
  // its last byte: a peer that just finished at the same slow rate says the page's intake is
  // the bottleneck as much as one still sending does.
  struct RecentRate {
    uint64_t bytes_per_second = 0;
    uint64_t until_ms = 0;
  };
  bool below_rate(PeerHandle owner, Flow& flow, uint64_t now_ms) const;
  bool slowed_with_others(PeerHandle owner, uint64_t now_ms) const;
  void remember_rate(PeerHandle owner, const Flow& flow);

  AssemblerLimits limits_;
  std::unordered_map<uint32_t, Pending> requests_;
  std::unordered_map<PeerHandle, Flow> flows_;
  std::unordered_map<PeerHandle, RecentRate> recent_;
  uint64_t bytes_allocated_ = 0;
};

}  // namespace p2pcdn
