#!/usr/bin/env bash
# Hostile-peer benchmark (bench/hostile_bench.mjs) inside a private network namespace.
# Writes bench/results/hostile.json and prints the rows of bench/README.md's table.
# ROUNDS sets the repetitions (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/prepare.sh demo
ROUNDS=${ROUNDS:-3} tests/e2e/netns.sh node bench/hostile_bench.mjs >bench/results/hostile.json
node -e '
const d = require("./bench/results/hostile.json");
const mib = (b) => (b / 1048576).toFixed(1);
const {idle, flood} = d.flood;
console.log(`| seeder, longest main-thread task | ${flood.longestTaskMs.toFixed(0)} ms under a flood of 1500 requests | idle ${idle.longestTaskMs.toFixed(0)} ms | |`);
console.log(`| seeder, worst lag of a 10 ms timer | ${flood.worstTimerLagMs} ms under the flood | idle ${idle.worstTimerLagMs} ms | |`);
console.log(`| seeder, main thread busy | ${(100 * flood.busyShare).toFixed(0)} % of the ${d.floodMs / 1000} s after the flood began | idle ${(100 * idle.busyShare).toFixed(0)} % | |`);
console.log(`| seeder, JS heap | ${mib(flood.heapBytes)} MiB peak under the flood | idle ${mib(idle.heapBytes)} MiB | ${(flood.heapBytes / idle.heapBytes).toFixed(2)}x |`);
for (const [kind, k] of Object.entries(d.kinds)) {
  if (kind === "none") continue;
  console.log(`| page time, one hostile peer: ${kind} (${k.verdicts.join(", ") || "not caught"}) | ${k.ms} ms, ${(100 * k.fromPeers).toFixed(0)} % from peers | no hostile peer ${d.kinds.none.ms} ms | ${k.ratio.toFixed(2)}x |`);
}
'
