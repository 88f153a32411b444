#!/usr/bin/env bash
# Ordinary-site benchmark (bench/site_bench.mjs): the origin in its own namespace, at full
# speed and shaped to 20 Mbit/s; then the hold window swept at 20 Mbit/s with prefetch off.
# Writes bench/results/site-*.json and prints the Markdown tables of bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/prepare.sh site
run() {  # run NAME [VAR=value...]
  local name=$1
  shift
  env ROUNDS="${ROUNDS:-5}" ORIGIN_NS=1 "$@" tests/e2e/netns.sh node bench/site_bench.mjs >"bench/results/site-$name.json"
}
run full
run 20mbit ORIGIN_RATE=20mbit
rm -f bench/results/site-hold-*.json
for hold in ${HOLD_SWEEP:-250 500 1000 2000 4000}; do
  run "hold-$hold" ORIGIN_RATE=20mbit HOLD_MS="$hold" VARIANTS=links
done
node bench/site_report.mjs bench/results
