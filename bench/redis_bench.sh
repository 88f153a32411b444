#!/usr/bin/env bash
# Scale-out through Redis (issue 18), in one run and at the same number of connections in
# total: one p2pcdn-server without Redis (the embedded default), one with Redis (the two in
# turn, ROUNDS times, for their ratio on a machine whose load varies), three with Redis. For each: relays/s between peers of one instance, lookups (answered by the instance
# alone, and ones that need the other instances); for three instances also relays between
# peers of different instances, as fast as they go, then paced at half that rate and at
# 12,500/s (half the 25,000/s target) for their latency. Writes bench/results/redis-*.json and prints a Markdown table
# (bench/redis_bench.mjs). A run that saw errors says so and exits non-zero.
#
#   CONNECTIONS=10000 RELAY_SECONDS=10 PAIRS=1000 ROUNDS=5 bench/redis_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-10000}
RELAY_SECONDS=${RELAY_SECONDS:-10}
LOOKUP_SECONDS=${LOOKUP_SECONDS:-5}
PAIRS=${PAIRS:-1000}
WINDOW=${WINDOW:-4}
ROUNDS=${ROUNDS:-5}
PAYLOAD_BYTES=${PAYLOAD_BYTES:-300}
MAX_SECONDS=${MAX_SECONDS:-$((120 + ${RELAY_SECONDS%.*} + ${LOOKUP_SECONDS%.*}))}

results=bench/results
load=build/native/bench/p2pcdn_redis_bench
server=build/native/server/p2pcdn-server
command -v redis-server >/dev/null || { echo "redis_bench: redis-server is missing: run scripts/setup.sh" >&2; exit 1; }
cmake -S . -B build/native -G Ninja >/dev/null
cmake --build build/native --target p2pcdn-server p2pcdn_redis_bench >/dev/null
mkdir -p "$results"
ulimit -n "$(ulimit -Hn)"

# Processes this script started, stopped by PID on any exit.
started=()
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  for pid in "${started[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => {
    console.log(s.address().port); s.close(); });"
}
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
redis_up() { curl -sf "http://127.0.0.1:$1/metrics" | grep -q '^p2pcdn_redis_up 1'; }
# shellcheck disable=SC2317  # called through wait_until
redis_ready() { redis-cli -p "$1" ping >/dev/null 2>&1; }

failed=0
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  >"$results/redis-server.log" 2>&1 &
redis_pid=$!
started+=("$redis_pid")
wait_until redis_ready "$redis_port" || { echo "redis_bench: redis-server did not start" >&2; exit 1; }

# Starts $1 instances (with Redis unless $2 is "embedded"); their ports go to $ports, PIDs to
# $pids.
start_instances() {
  local count=$1 kind=$2 i port
  ports=()
  pids=()
  for ((i = 0; i < count; i++)); do
    port=$(free_port)
    local flags=(--bind 127.0.0.1 --port "$port" --log-level warn --max-connections 30000
      --max-connections-per-ip 30000 --max-peers-per-ip-per-swarm 30000
      --messages-per-second 100000 --max-relay-in-per-second 100000
      --heartbeat-interval-ms 300000 --peer-timeout-ms 600000)
    [ "$kind" = redis ] && flags+=(--redis "127.0.0.1:$redis_port")
    "$server" "${flags[@]}" 2>>"$results/redis-$kind-$count-servers.log" &
    pids+=($!)
    started+=($!)
    wait_until healthy "$port" || { echo "redis_bench: an instance did not start" >&2; exit 1; }
    if [ "$kind" = redis ]; then
      wait_until redis_up "$port" || { echo "redis_bench: an instance did not reach Redis" >&2; exit 1; }
    fi
    ports+=("$port")
  done
}

stop_instances() {
  local pid rc
  for pid in "${pids[@]}"; do
    rc=0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ]; then echo "redis_bench: an instance exited $rc after SIGTERM" >&2; failed=1; fi
  done
}

# run NAME MODE [RATE]: the load generator against the instances started last.
run() {
  local name=$1 mode=$2 rate=${3:-0} rc=0
  local list pid_list
  list=$(IFS=,; echo "${ports[*]}")
  pid_list=$(IFS=,; echo "${pids[*]}")
  local pace="as fast as $WINDOW in flight per pair allow"
  [ "$rate" != 0 ] && pace="paced at $rate/s"
  echo "redis_bench: $name: ${#ports[@]} instance(s), $CONNECTIONS connections, $mode relays" \
    "$pace (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  sleep 1
  "$load" --ports "$list" --server-pids "$pid_list" --connections "$CONNECTIONS" --pairs "$PAIRS" --mode "$mode" \
    --relay-seconds "$RELAY_SECONDS" --rate "$rate" --window "$WINDOW" \
    --lookup-seconds "$LOOKUP_SECONDS" --payload-bytes "$PAYLOAD_BYTES" \
    --max-seconds "$MAX_SECONDS" >"$results/redis-$name.json" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "redis_bench: $name: the load generator saw errors ($rc)" >&2; failed=1; fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "redis_bench: $name: an instance died" >&2; failed=1; }
  done
}

# In turn, and in ABBA order: a machine whose load drifts favours neither.
one_round() {
  local kind=$1 round=$2
  if [ "$kind" = embedded ]; then
    start_instances 1 embedded
    run "embedded-$round" same
  else
    start_instances 1 redis
    run "redis-1-$round" same
  fi
  stop_instances
}
for ((round = 1; round <= ROUNDS; round++)); do
  if ((round % 2 == 1)); then
    one_round embedded "$round"
    one_round redis "$round"
  else
    one_round redis "$round"
    one_round embedded "$round"
  fi
done

# Redis's memory while 3 instances hold every peer: the largest of samples every 0.5 s.
redis_memory_file="$results/redis-memory"
echo 0 >"$redis_memory_file"
sample_redis_memory() {
  local most=0 now
  while sleep 0.5; do
    now=$(redis-cli -p "$redis_port" info memory | tr -d '\r' | sed -n 's/^used_memory://p')
    if [ -n "$now" ] && [ "$now" -gt "$most" ]; then
      most=$now
      echo "$most" >"$redis_memory_file"
    fi
  done
}

start_instances 3 redis
sample_redis_memory &
sampler=$!
started+=("$sampler")
run redis-3-same same
# Each run ends with 10,000 disconnections and starts with as many joins: a pause between
# runs lets the instances and Redis finish with them.
sleep 3
run redis-3-cross cross
sleep 3
half=$(node -e "const r = require('./$results/redis-redis-3-cross.json');
  console.log(Math.round(r.relays_per_second / 2))")
run redis-3-cross-half cross "$half"
sleep 3
# The issue's latency target: p99 at half of 25,000 relays/s.
run redis-3-cross-12500 cross 12500
kill "$sampler" 2>/dev/null || true
redis_memory=$(cat "$redis_memory_file")
stop_instances

node bench/redis_bench.mjs "$results" "$ROUNDS" "$redis_memory" | tee "$results/redis-table.md" ||
  failed=1
exit "$failed"
