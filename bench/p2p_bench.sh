#!/usr/bin/env bash
# Browser-to-browser benchmark (bench/p2p_bench.mjs) inside a private network namespace.
# Writes bench/results/p2p.json. RUNS sets the repetitions (default 5); PAIR the browsers
# (chromium, the default; firefox; mixed: Chromium serving Firefox, then Firefox serving
# Chromium; or a list: PAIR=chromium,firefox,mixed). Exits 1 if a round errored.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_PREPARE:-}" ] || bench/prepare.sh demo
rc=0
RUNS=${RUNS:-5} PAIR=${PAIR:-chromium} tests/e2e/netns.sh node bench/p2p_bench.mjs >bench/results/p2p.json || rc=$?
node -e '
const d = require("./bench/results/p2p.json");
const f = (x) => x.toFixed(1);
const name = {chromium: "Chromium", firefox: "Firefox"};
for (const p of d.pairs) {
  const who = `${name[p.seeder || p.pair.split("-")[0]]} serves ${name[p.visitor || p.pair.split("-")[1]]}`;
  if (p.error) {
    console.log(`| ${who} | error: ${p.error} | | |`);
    continue;
  }
  const ratio = p.p2pcdn_mib_s / p.bare_channel_mib_s;
  console.log(`| ${who}: 20 MiB from a peer through p2pcdn (page fetch via worker) | ${f(p.p2pcdn_mib_s)} MiB/s | bare RTCDataChannel, same browsers ${f(p.bare_channel_mib_s)} MiB/s | ${ratio.toFixed(2)}x (target ≥ 0.9x: ${ratio >= 0.9 ? "met" : "not met"}) |`);
  if (p.p2pcdn_page_transfer_mib_s) console.log(`| ${who}: same, REQUEST sent to body verified in the page | ${f(p.p2pcdn_page_transfer_mib_s)} MiB/s | bare RTCDataChannel ${f(p.bare_channel_mib_s)} MiB/s | ${(p.p2pcdn_page_transfer_mib_s / p.bare_channel_mib_s).toFixed(2)}x |`);
  console.log(`| ${who}: ${(p.small_bytes / 1024).toFixed(1)} KiB image from a peer (link up) | ${f(p.small_from_peer_ms)} ms | from the origin, no worker ${f(p.small_from_origin_ms)} ms | +${f(p.small_from_peer_ms - p.small_from_origin_ms)} ms |`);
}
' || rc=1
exit "$rc"
