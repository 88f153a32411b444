// The ceiling of the Wasm build's SHA-256. The Wasm core hashes with Crypto++'s portable C++
// code: IteratedHashBase::Update, SHA256::HashMultipleBlocks (ByteReverse of each block into
// the hash's buffer) and SHA256_HashBlock_CXX. This compiles the same sources with the same
// configuration (CRYPTOPP_DISABLE_ASM: no SHA-NI, no SSE2 assembly) natively, so Wasm's
// figure can be read against what the same code does on the bare CPU, and that against
// WebCrypto. core_bench.cpp's BM_Sha256 is the system Crypto++ (with SHA-NI).
#include <benchmark/benchmark.h>
#include <cryptopp/sha.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

std::vector<uint8_t> random_bytes(size_t n) {  // xorshift, as in js_core_bench.mjs
  std::vector<uint8_t> b(n);
  uint32_t x = 0x9e3779b9;
  for (auto& v : b) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    v = static_cast<uint8_t>(x);
  }
  return b;
}

// FIPS 180-2 test vector: the library does hash, with the code path it says it does.
bool portable_and_correct(benchmark::State& state) {
  CryptoPP::SHA256 hash;
  if (hash.AlgorithmProvider() != "C++") {
    state.SkipWithError(("not the portable code: " + hash.AlgorithmProvider()).c_str());
    return false;
  }
  static const uint8_t kAbc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                   0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                   0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  uint8_t digest[32];
  hash.CalculateDigest(digest, reinterpret_cast<const uint8_t*>("abc"), 3);
  if (std::memcmp(digest, kAbc, sizeof digest) != 0) {
    state.SkipWithError("wrong digest for \"abc\"");
    return false;
  }
  state.SetLabel(hash.AlgorithmProvider());
  return true;
}

// One-shot digest of a body, as the Wasm core's sha256() does.
void BM_Sha256Portable(benchmark::State& state) {
  if (!portable_and_correct(state)) return;
  const auto body = random_bytes(static_cast<size_t>(state.range(0)));
  uint8_t digest[32];
  for (auto _ : state) {
    CryptoPP::SHA256().CalculateDigest(digest, body.data(), body.size());
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
// Median of 5: this is the ceiling the Wasm figures are read against, so one noisy run on a
// shared machine must not move it.
BENCHMARK(BM_Sha256Portable)
    ->Arg(16 << 10)
    ->Arg(1 << 20)
    ->Arg(64 << 20)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
