#!/usr/bin/env bash
# Swarm benchmark (issue 15; bench/swarm_bench.mjs): 5 visitors, each its own Chromium, walk
# the multi-page demo site in three scenarios (one after another, all at once, one leaving),
# with p2pcdn and without it in paired rounds, the origin in its own namespace at full speed
# and shaped to 20 Mbit/s. Builds what it needs first. Writes bench/results/swarm-full.json
# and swarm-20mbit.json (raw runs), bench/results/swarm_bench.json (+ a dated copy) with the
# figures, prints the Markdown tables of bench/README.md, and exits 1 if any run saw an error
# (never because a target is missed).
# Env: SPEEDS ("full 20mbit"), and ROUNDS, DWELL_MS, VISITORS, SCENARIOS, LEAVE_AFTER_MS,
# RUN_TIMEOUT_S, DEADLINE_S, NAV (click: later pages by clicking their link) of
# bench/swarm_bench.mjs.
set -uo pipefail
cd "$(dirname "$0")/.."
# SPEEDS is a space-separated list of `full` or tc rates ("20mbit"): said before any build.
for speed in ${SPEEDS:-full 20mbit}; do
  [[ "$speed" = full || "$speed" =~ ^[0-9]+(\.[0-9]+)?[kmg]?bit$ ]] ||
    { echo "swarm_bench: SPEEDS='${SPEEDS}': '$speed' is neither full nor a rate like 20mbit (a list is space-separated)" >&2; exit 2; }
done
bench/prepare.sh site || { echo "swarm_bench: bench/prepare.sh site failed (its steps print to /dev/null: run it alone to see why)" >&2; exit 1; }
rc=0
files=()
for speed in ${SPEEDS:-full 20mbit}; do
  out="bench/results/swarm-$speed.json"
  rm -f "$out"
  rate=()
  [ "$speed" = full ] || rate=(ORIGIN_RATE="$speed")
  env ORIGIN_NS=1 OUT="$out" "${rate[@]}" tests/e2e/netns.sh node bench/swarm_bench.mjs || rc=1
  files+=("$out")
done
node bench/swarm_report.mjs "${files[@]}" || rc=1
exit $rc
