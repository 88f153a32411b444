#!/usr/bin/env bash
# A first visit's LCP with p2pcdn's tag against without, over HTTP/2 and HTTP/1.1 from one
# TLS server, the origin shaped to ORIGIN_RATE (20mbit). See bench/h2_first_visit.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_PREPARE:-}" ] || bench/prepare.sh site
ORIGIN_NS=1 ORIGIN_RATE="${ORIGIN_RATE:-20mbit}" exec tests/e2e/netns.sh node bench/h2_first_visit.mjs
