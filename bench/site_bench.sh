#!/usr/bin/env bash
# Ordinary-site benchmark (bench/site_bench.mjs): the origin in its own namespace, at full
# speed and shaped to 20 Mbit/s. Writes bench/results/site-{full,20mbit}.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
scripts/build.sh native >/dev/null
scripts/build.sh wasm >/dev/null
scripts/build-site.sh site >/dev/null
mkdir -p bench/results
ROUNDS=${ROUNDS:-5} ORIGIN_NS=1 tests/e2e/netns.sh node bench/site_bench.mjs >bench/results/site-full.json
ROUNDS=${ROUNDS:-5} ORIGIN_NS=1 ORIGIN_RATE=20mbit tests/e2e/netns.sh node bench/site_bench.mjs >bench/results/site-20mbit.json
node -e '
for (const f of ["site-full", "site-20mbit"]) {
  const d = require(`./bench/results/${f}.json`);
  for (const r of d.table) {
    const ratio = r.complete_with_ms / r.complete_without_ms;
    console.log(`| ${d.origin_rate} | ${r.page} | ${r.first_peer_byte_ms === null ? "–" : Math.round(r.first_peer_byte_ms) + " ms"} | ${Math.round(r.complete_with_ms)} ms | ${Math.round(r.complete_without_ms)} ms | ${ratio.toFixed(2)}x |`);
  }
}'
