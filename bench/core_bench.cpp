// Native figures for bench/README.md: frame codec rate, reassembly against memcpy of the
// same bytes (the physical limit), and Crypto++ SHA-256.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>

#include "p2pcdn/chunk_assembler.hpp"
#include "p2pcdn/data_chunker.hpp"
#include "p2pcdn/frame.hpp"
#include "p2pcdn/sha256.hpp"
#include "p2pcdn/signal.hpp"

using namespace p2pcdn;

namespace {

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> b(n);
  std::mt19937_64 rng(1);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

const Request kRequest{42, sha256(ByteView::of("url")), sha256(ByteView::of("body")), 0, kToEnd};

void BM_EncodeRequest(benchmark::State& state) {
  for (auto _ : state) {
    auto bytes = encode_frame(kRequest);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeRequest);

void BM_DecodeRequest(benchmark::State& state) {
  const auto bytes = encode_frame(kRequest).value();
  for (auto _ : state) {
    auto frame = decode_frame(ByteView(bytes));
    benchmark::DoNotOptimize(frame);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeRequest);

// DATA frames are the hot path: header written in place, payload copied behind it.
void BM_EncodeData(benchmark::State& state) {
  const auto payload = random_bytes(static_cast<size_t>(state.range(0)));
  std::vector<uint8_t> frame(kDataHeaderSize + payload.size());
  for (auto _ : state) {
    write_data_header(frame.data(), 7, 1 << 20, static_cast<uint32_t>(payload.size()));
    std::memcpy(frame.data() + kDataHeaderSize, payload.data(), payload.size());
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeData)->Arg(16 << 10)->Arg(256 << 10);

void BM_DecodeData(benchmark::State& state) {
  const auto payload = random_bytes(static_cast<size_t>(state.range(0)));
  const auto bytes = encode_frame(Data{7, 1 << 20, ByteView(payload)}).value();
  for (auto _ : state) {
    auto frame = decode_frame(ByteView(bytes));
    benchmark::DoNotOptimize(frame);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeData)->Arg(16 << 10)->Arg(256 << 10);

void BM_EncodeRelaySignal(benchmark::State& state) {
  const Relay relay{PeerId{}, RelayKind::kOffer, std::string(1500, 'v')};
  for (auto _ : state) {
    auto bytes = encode_signal(relay);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeRelaySignal);

void BM_DecodeRelaySignal(benchmark::State& state) {
  const auto bytes =
      encode_signal(Relay{PeerId{}, RelayKind::kOffer, std::string(1500, 'v')}).value();
  for (auto _ : state) {
    auto message = decode_signal(ByteView(bytes));
    benchmark::DoNotOptimize(message);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeRelaySignal);

constexpr size_t kBody = 20 << 20;  // the 20 MiB file of the browser benchmarks

// Baseline: copy the same chunks into a freshly allocated buffer of the same size.
void BM_MemcpyBaseline(benchmark::State& state) {
  const auto body = random_bytes(kBody);
  const size_t chunk = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    std::unique_ptr<uint8_t[]> out(new uint8_t[kBody]);
    for (size_t at = 0; at < kBody; at += chunk) {
      std::memcpy(out.get() + at, body.data() + at, std::min(chunk, kBody - at));
    }
    benchmark::DoNotOptimize(out.get());
  }
  state.SetBytesProcessed(state.iterations() * kBody);
}
BENCHMARK(BM_MemcpyBaseline)->Arg(16 << 10)->Arg(256 << 10)->Unit(benchmark::kMillisecond);

// Full receive path per message: decode the DATA frame, place its payload; chunks arrive in
// order but for every 8th, which comes one slot late (a mild reorder).
void reassemble(benchmark::State& state, bool verify) {
  const auto body = random_bytes(kBody);
  const uint32_t max_message = static_cast<uint32_t>(state.range(0));
  std::vector<std::vector<uint8_t>> frames;
  DataChunker chunker(1, 0, kBody, max_message);
  while (!chunker.done()) frames.push_back(chunker.next_frame(ByteView(body)));
  for (size_t i = 7; i + 1 < frames.size(); i += 8) std::swap(frames[i], frames[i + 1]);
  const RequestShape shape{0, kBody, verify ? std::optional(sha256(ByteView(body))) : std::nullopt};
  for (auto _ : state) {
    ChunkAssembler a;
    a.begin(1, 1, shape, 0);
    for (const auto& f : frames) {
      auto frame = decode_frame(ByteView(f), max_message);
      const Data& d = std::get<Data>(frame.value());
      if (!a.add(1, d.request_id, d.offset, d.payload, 0)) state.SkipWithError("rejected");
    }
    if (!a.body(1)) state.SkipWithError("incomplete");
  }
  state.SetBytesProcessed(state.iterations() * kBody);
}
void BM_Reassemble(benchmark::State& state) {
  reassemble(state, false);
}
void BM_ReassembleAndVerify(benchmark::State& state) {
  reassemble(state, true);
}
BENCHMARK(BM_Reassemble)->Arg(16 << 10)->Arg(256 << 10)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReassembleAndVerify)->Arg(16 << 10)->Arg(256 << 10)->Unit(benchmark::kMillisecond);

void BM_Sha256(benchmark::State& state) {
  const auto body = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto digest = sha256(ByteView(body));
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(16 << 10)->Arg(1 << 20)->Arg(64 << 20);

}  // namespace

BENCHMARK_MAIN();
