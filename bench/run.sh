#!/usr/bin/env bash
# Runs every core benchmark in one go and writes bench/results/*.json and
# bench/results/table.md (the table in bench/README.md comes from it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
scripts/build.sh native >/dev/null
scripts/build.sh wasm >/dev/null
mkdir -p bench/results
build/native/bench/p2pcdn_core_bench --benchmark_min_time=0.5 --benchmark_format=json \
  --benchmark_out=bench/results/native.json --benchmark_out_format=json >/dev/null
build/native/bench/p2pcdn_sha_portable_bench --benchmark_min_time=0.5 \
  --benchmark_out=bench/results/native-portable.json --benchmark_out_format=json >/dev/null
node bench/wasm_bench.mjs >bench/results/wasm-node.json
node bench/browser_bench.mjs >bench/results/wasm-chromium.json
node bench/report.mjs bench/results/native.json bench/results/native-portable.json \
  bench/results/wasm-node.json bench/results/wasm-chromium.json | tee bench/results/table.md
