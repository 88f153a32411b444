#!/usr/bin/env bash
# Large files in pieces (bench/pieces_bench.mjs) on the bridge rig of bench/netns_bridge.sh:
# a 64 MiB file from 1, 2 and 3 seeders whose uploads are limited to 10 Mbit/s each, and
# video start for a first visitor with the origin at 20 Mbit/s, through p2pcdn and without.
# Builds what it needs first. Writes bench/results/pieces_bench.json, prints the tables of
# bench/README.md, and exits 1 if any round saw an error. Environment: see pieces_bench.mjs
# (ROUNDS, VIDEO_ROUNDS, MIB, SEEDER_RATE, ORIGIN_RATE, DEADLINE_S, PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/prepare.sh demo
node bench/pieces_bench.mjs
