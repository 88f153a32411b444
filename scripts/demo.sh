#!/usr/bin/env bash
# The demo: installs what is missing, builds the Wasm core and shows what it does.
# (With the browser runtime it starts p2pcdn-server serving web_app/.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh wasm >/dev/null
node web_app/core_demo.mjs
