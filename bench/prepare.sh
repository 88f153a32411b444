#!/usr/bin/env bash
# What every browser benchmark needs first: packages, both builds, the site(s) named.
# Usage: bench/prepare.sh demo|site...
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
scripts/build.sh native >/dev/null
scripts/build.sh wasm >/dev/null
for site in "$@"; do scripts/build-site.sh "$site" >/dev/null; done
mkdir -p bench/results
