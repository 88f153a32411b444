#!/usr/bin/env bash
# Browser-to-browser benchmark (bench/p2p_bench.mjs) inside a private network namespace.
# Writes bench/results/p2p.json. RUNS sets the repetitions (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/prepare.sh demo
RUNS=${RUNS:-5} tests/e2e/netns.sh node bench/p2p_bench.mjs >bench/results/p2p.json
node -e '
const d = require("./bench/results/p2p.json");
const f = (x) => x.toFixed(1);
console.log(`| 20 MiB from a peer through p2pcdn (page fetch via worker) | ${f(d.p2pcdn_mib_s)} MiB/s | bare RTCDataChannel, same browsers ${f(d.bare_channel_mib_s)} MiB/s | ${(d.p2pcdn_mib_s / d.bare_channel_mib_s).toFixed(2)}x |`);
console.log(`| same, REQUEST sent to body verified in the page | ${f(d.p2pcdn_page_transfer_mib_s)} MiB/s | bare RTCDataChannel ${f(d.bare_channel_mib_s)} MiB/s | ${(d.p2pcdn_page_transfer_mib_s / d.bare_channel_mib_s).toFixed(2)}x |`);
console.log(`| ${(d.small_bytes / 1024).toFixed(1)} KiB image from a peer (link up) | ${f(d.small_from_peer_ms)} ms | from the origin, no worker ${f(d.small_from_origin_ms)} ms | +${f(d.small_from_peer_ms - d.small_from_origin_ms)} ms |`);
'
