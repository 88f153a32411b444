#!/usr/bin/env bash
# The demo: installs what is missing, builds everything, assembles the demo site and serves
# it with p2pcdn-server. PORT (default 8080; 0: any free port) and HOST (default 0.0.0.0) may
# be set; DEMO_SKIP_BUILD=1 serves what an earlier run built.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${DEMO_SKIP_BUILD:-}" != 1 ]; then
  scripts/setup.sh
  scripts/build.sh native >/dev/null
  scripts/build.sh wasm >/dev/null
  scripts/build-site.sh demo build/site/demo >/dev/null
fi

# Passes the server's log through and gives the URL only once the server says it is
# listening, with the port it bound: a port already taken shows the server's error instead
# of a URL that leads to some other program.
announce_when_listening() {
  trap '' INT # Ctrl-C stops the server, whose last lines still come through here
  local line announced=""
  while IFS= read -r line; do
    printf '%s\n' "$line" >&2
    if [ -z "$announced" ] && [[ $line =~ event=listening.*\ port=([0-9]+) ]]; then
      announced=1
      cat <<MSG

p2pcdn demo: open http://localhost:${BASH_REMATCH[1]}/ in two browser windows that do not share storage
(two different browsers, or a normal and a private window). The first loads the media from
this server; the second gets them from the first, over WebRTC. The panel shows bytes by
source. Service workers need a secure context: use localhost, or serve with --cert/--key.
Ctrl-C stops the server.

MSG
    fi
  done
}

exec build/native/server/p2pcdn-server --bind "${HOST:-0.0.0.0}" --port "${PORT:-8080}" \
  --root build/site/demo 2> >(announce_when_listening)
