#!/usr/bin/env bash
# Chromium for the rig of bench/netns_bridge.sh, which sets CHROMIUM_PATH to this file: an
# argument --p2pcdn-netns=NS (which this removes) starts the browser inside namespace NS,
# with the same PID (nsenter executes it), so a driver that talks to it over a pipe
# (playwright-core) and kills it by PID works as usual. Without that argument: as is.
set -euo pipefail
real=${NETNS_REAL_CHROMIUM:-/usr/lib/chromium/chromium}
ns=
args=()
for a in "$@"; do
  case "$a" in
    --p2pcdn-netns=*) ns=${a#--p2pcdn-netns=} ;;
    *) args+=("$a") ;;
  esac
done
[ -n "$ns" ] || exec "$real" "${args[@]}"
[ -e "/run/netns/$ns" ] || { echo "netns_chromium: no namespace $ns (run inside bench/netns_bridge.sh)" >&2; exit 2; }
exec nsenter --net="/run/netns/$ns" "$real" "${args[@]}"
