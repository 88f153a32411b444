#!/usr/bin/env bash
# Signaling load, p2pcdn-server against bittorrent-tracker's WebSocket tracker, in one run:
# the same load generator (p2pcdn_signal_load) against each server in turn, in two swarm
# shapes: every connection in one swarm, and swarms of SWARM_SIZE peers (500 swarms of 20 at
# the defaults; relays only between peers of one swarm). Writes
# bench/results/signal-{p2pcdn,tracker}-{one,many}.json and prints a Markdown table per shape
# with ratios (bench/results/signal-table.md). Exits non-zero if a run saw errors, a server
# died, or p2pcdn-server relays less than 5x the tracker's rate in a shape.
# Before each measurement it waits (at most LOAD_WAIT_SECONDS, polling every 15 s) for the
# 1-minute load average to fall below MAX_LOAD and, over 5 s, at least MIN_IDLE_CORES of the
# machine's cores to be idle (one busy core keeps a 2-core machine's load average below 1.5,
# and takes the core the load generator needs); the tables give the load each run started at
# and the CPU the rest of the machine took during it.
# Assumes scripts/setup.sh has run (it installs bittorrent-tracker from package.json).
#
#   CONNECTIONS=10000 RELAY_SECONDS=10 PAIRS=1000 WINDOW=8 PAYLOAD_BYTES=500 SWARM_SIZE=20 \
#     MAX_LOAD=1.5 LOAD_WAIT_SECONDS=600 bench/signal_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-10000}
RELAY_SECONDS=${RELAY_SECONDS:-10}
PAIRS=${PAIRS:-1000}
WINDOW=${WINDOW:-8}  # relays each pair keeps in flight
PAYLOAD_BYTES=${PAYLOAD_BYTES:-500}
SWARM_SIZE=${SWARM_SIZE:-20}
MAX_LOAD=${MAX_LOAD:-1.5}
MIN_IDLE_CORES=${MIN_IDLE_CORES:-$(awk -v n="$(nproc)" 'BEGIN { print n - 0.3 }')}
LOAD_WAIT_SECONDS=${LOAD_WAIT_SECONDS:-600}
# Connecting 10k clients takes seconds; this only stops a run that hangs.
MAX_SECONDS=${MAX_SECONDS:-$((180 + ${RELAY_SECONDS%.*}))}

results=bench/results
load=build/native/bench/p2pcdn_signal_load
server=build/native/server/p2pcdn-server

if [ ! -d node_modules/bittorrent-tracker ]; then
  echo "signal_load: node_modules/bittorrent-tracker is missing: run scripts/setup.sh" >&2
  exit 1
fi
scripts/build.sh native >/dev/null
mkdir -p "$results"

# One descriptor per connection, in the server and in the load generator (separate processes,
# each under the same limit).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((CONNECTIONS + 100)) ]; then
  echo "signal_load: ulimit -n is $(ulimit -n), below $CONNECTIONS connections" >&2
fi

# Processes this script started, stopped by PID on any exit.
started=()
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  for pid in "${started[@]}"; do
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => {
    console.log(s.address().port); s.close(); });"
}

# True while the process runs (a dead child stays a zombie until waited for).
alive() {
  local state
  state=$(ps -o stat= -p "$1") && [[ $state != Z* ]]
}

# Runs the given command every 0.1 s until it succeeds, for at most 10 s.
wait_until() {
  for _ in $(seq 100); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# shellcheck disable=SC2317  # called through wait_until
healthy() { curl -sf -o /dev/null "http://127.0.0.1:$1/healthz"; }
# shellcheck disable=SC2317  # called through wait_until
tracker_listening() { grep -q '^listening' "$1"; }

# Cores idle over the next 5 s, from /proc/stat (idle and iowait).
idle_cores() {
  local before after
  before=$(head -n 1 /proc/stat)
  sleep 5
  after=$(head -n 1 /proc/stat)
  awk -v n="$(nproc)" -v a="$before" -v b="$after" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    for (i = 2; i <= 9; i++) total += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%.2f\n", (total > 0 ? n * idle / total : 0)
  }'
}

# The machine is shared: waits until the 1-minute load average is below MAX_LOAD and
# MIN_IDLE_CORES are idle, for at most LOAD_WAIT_SECONDS; measures anyway after that (the
# table shows the load and what else ran).
wait_quiet() {
  local waited=0 load idle
  while :; do
    idle=$(idle_cores)
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$MAX_LOAD" -v i="$idle" -v c="$MIN_IDLE_CORES" \
      'BEGIN { exit !(l < m && i >= c) }'; then
      return 0
    fi
    if [ "$waited" -ge "$LOAD_WAIT_SECONDS" ]; then
      echo "signal_load: load average $load, $idle cores idle after ${waited}s: measuring anyway" >&2
      return 0
    fi
    echo "signal_load: load average $load, $idle cores idle; waiting for < $MAX_LOAD and" \
      ">= $MIN_IDLE_CORES idle" >&2
    sleep 10
    waited=$((waited + 15))
  done
}

# Runs the load generator (protocol $1, swarms of $5 peers, 0: one swarm) against the
# server with PID $2 on port $4; its JSON goes to $3.
run_load() {
  local protocol=$1 pid=$2 out=$3 port=$4 swarm_size=$5
  local shape="swarms of $swarm_size"
  [ "$swarm_size" -eq 0 ] && shape="one swarm"
  wait_quiet
  echo "signal_load: $protocol: $CONNECTIONS connections in $shape," \
    "$PAIRS pairs, $WINDOW in flight each, ${RELAY_SECONDS}s of relays" \
    "(load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  local rc=0
  "$load" --protocol "$protocol" --port "$port" --connections "$CONNECTIONS" \
    --relay-seconds "$RELAY_SECONDS" --pairs "$PAIRS" --window "$WINDOW" --payload-bytes "$PAYLOAD_BYTES" \
    --swarm-size "$swarm_size" --max-seconds "$MAX_SECONDS" --server-pid "$pid" >"$out" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "signal_load: $protocol: load generator exited $rc" >&2; fi
  if ! alive "$pid"; then
    echo "signal_load: $protocol: the server died during the run" >&2
    rc=1
  fi
  return "$rc"
}

# Stops server $1 (PID $2) and reports how it exited (a crash shows here as 128 + signal).
stop_server() {
  local name=$1 pid=$2 rc=0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "signal_load: $name exited $rc after SIGTERM" >&2; fi
  return "$rc"
}

failed=0

# One shape against both servers: $1 is the swarm size (0: one swarm), $2 the results' suffix.
run_shape() {
  local swarm_size=$1 shape=$2 port pid
  # --- p2pcdn-server
  port=$(free_port)
  "$server" --bind 127.0.0.1 --port "$port" --log-level warn --max-connections 30000 \
    --max-connections-per-ip 30000 --max-peers-per-ip-per-swarm 30000 \
    --messages-per-second 100000 --max-relay-in-per-second 100000 \
    2>"$results/signal-p2pcdn-server-$shape.log" &
  pid=$!
  started+=("$pid")
  if ! wait_until healthy "$port"; then
    echo "signal_load: p2pcdn-server did not answer /healthz" >&2
    exit 1
  fi
  run_load p2pcdn "$pid" "$results/signal-p2pcdn-$shape.json" "$port" "$swarm_size" || failed=1
  stop_server p2pcdn-server "$pid" || failed=1

  # --- bittorrent-tracker
  port=$(free_port)
  node bench/tracker_server.mjs "$port" >"$results/signal-tracker-server-$shape.log" 2>&1 &
  pid=$!
  started+=("$pid")
  if ! wait_until tracker_listening "$results/signal-tracker-server-$shape.log"; then
    echo "signal_load: the tracker did not start:" >&2
    cat "$results/signal-tracker-server-$shape.log" >&2
    exit 1
  fi
  run_load tracker "$pid" "$results/signal-tracker-$shape.json" "$port" "$swarm_size" || failed=1
  stop_server bittorrent-tracker "$pid" || failed=1

  for log in "$results/signal-p2pcdn-server-$shape.log" "$results/signal-tracker-server-$shape.log"; do
    if grep -qv '^listening' "$log"; then
      echo "signal_load: $log:" >&2
      grep -v '^listening' "$log" | tail -n 20 >&2
    fi
  done
}

run_shape 0 one
run_shape "$SWARM_SIZE" many

report_rc=0
node bench/signal_report.mjs "$results/signal-p2pcdn-one.json" "$results/signal-tracker-one.json" \
  "$results/signal-p2pcdn-many.json" "$results/signal-tracker-many.json" |
  tee "$results/signal-table.md" || report_rc=$?
if [ "$report_rc" -ne 0 ]; then failed=1; fi
if [ "$failed" -ne 0 ]; then echo "signal_load: FAILED (see above)" >&2; fi
exit "$failed"
