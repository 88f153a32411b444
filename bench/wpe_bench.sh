#!/usr/bin/env bash
# WPE WebKit page-complete, the company site with p2pcdn against without (bench/wpe_bench.mjs),
# inside a private network namespace. Writes bench/results/wpe_bench.json and prints the
# table. ROUNDS sets the paired rounds (default 7). Exits 1 if a round errored.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_PREPARE:-}" ] || bench/prepare.sh site
ROUNDS=${ROUNDS:-7} tests/e2e/netns.sh node bench/wpe_bench.mjs
