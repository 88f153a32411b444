#!/usr/bin/env bash
# The demo: installs what is missing, builds everything, assembles the demo site and serves
# it with p2pcdn-server. PORT (default 8080) and HOST (default 0.0.0.0) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh native >/dev/null
scripts/build.sh wasm >/dev/null
scripts/build-site.sh demo build/site/demo >/dev/null
port=${PORT:-8080}
cat <<MSG

p2pcdn demo: open http://localhost:$port/ in two browser windows that do not share storage
(two different browsers, or a normal and a private window). The first loads the media from
this server; the second gets them from the first, over WebRTC. The panel shows bytes by
source. Service workers need a secure context: use localhost, or serve with --cert/--key.
Ctrl-C stops the server.

MSG
exec build/native/server/p2pcdn-server --bind "${HOST:-0.0.0.0}" --port "$port" --root build/site/demo
