#!/usr/bin/env bash
# Network namespaces joined by a bridge: one for the origin (p2pcdn-server, signaling) and
# one per browser, each on its own veth to a bridge, so that traffic between two browsers
# crosses both their links. A tc qdisc on a browser's own link then limits its upload, which
# tests/e2e/netns.sh cannot do (traffic inside one namespace never crosses a shaped link).
# Works unprivileged: a user + network + PID + mount namespace (unshare -r) holds the bridge,
# and `ip netns add` makes the others inside it (on a private /run).
#
#   bench/netns_bridge.sh COMMAND...        builds the rig, runs COMMAND in the bridge's own
#                                           namespace (10.77.0.254), and tears it all down when
#                                           COMMAND exits (or when this script's PID is killed)
# From inside COMMAND (any process started by it):
#   bench/netns_bridge.sh exec NS CMD...    runs CMD in namespace NS (origin, b1 .. bN)
#   bench/netns_bridge.sh shape NS RATE [BURST [LATENCY]]
#                                           NS's upload limited to RATE (e.g. 10mbit) by tc
#                                           tbf (32kb, 10ms); RATE "off" removes it
#   bench/netns_bridge.sh show              namespaces, addresses and qdiscs
#
# Addresses: origin 10.77.0.1, browser k (bk) 10.77.0.(10+k), the bridge 10.77.0.254; /24.
# Environment: NETNS_BROWSERS (3) browser namespaces b1..bN; SHAPE="b1=10mbit b2=10mbit"
# initial upload limits; ORIGIN_RATE (e.g. 20mbit) the origin's upload, to the browsers.
# COMMAND gets NETNS_BRIDGE (this script), NETNS_BROWSERS, and CHROMIUM_PATH set to
# bench/netns_chromium.sh, which starts Chromium inside the namespace its
# --p2pcdn-netns=NS argument names (bench/netns_bridge.mjs: launchChromiumIn).
# TBF_BURST, TBF_LATENCY: the defaults of shape; NETNS_SHAPE_AT: where the queue sits (below).
# netem, fq_codel and the matchall classifier are not in this kernel (no added delay); tbf,
# htb, pfifo, ingress, u32, mirred and ifb are.
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
SUBNET=10.77.0
TBF_BURST=${TBF_BURST:-32kb}
TBF_LATENCY=${TBF_LATENCY:-10ms}

in_rig() {
  if [ "${NETNS_BRIDGE_INSIDE:-}" != "1" ]; then
    echo "netns_bridge: '$1' works only inside the rig (bench/netns_bridge.sh COMMAND...)" >&2
    exit 2
  fi
}

valid_ns() {
  [ -e "/run/netns/$1" ] || { echo "netns_bridge: no namespace $1" >&2; exit 2; }
}

# NS's upload limited to RATE by tc tbf (BURST, LATENCY: its bucket and queue; by default a
# short queue, ~35 ms at 10 Mbit/s: see bench/README.md for what a deep one does to a data
# channel). Where the queue sits, NETNS_SHAPE_AT:
#   bridge (default): on NS's bridge port, in the rig's namespace (ingress redirected to an
#     ifb device i-NS), like a modem's: the browser's own kernel and sockets see no backlog;
#   own: on NS's own eth0 (also the fallback where ifb is missing).
shape() {  # NS RATE|off [BURST [LATENCY]]
  valid_ns "$1"
  local ns=$1 rate=$2 burst=${3:-$TBF_BURST} latency=${4:-$TBF_LATENCY}
  local in=(nsenter --net="/run/netns/$ns") port="v-$ns" ifb="i-$ns"
  "${in[@]}" tc qdisc del dev eth0 root 2>/dev/null || true
  tc qdisc del dev "$port" ingress 2>/dev/null || true
  ip link del "$ifb" 2>/dev/null || true
  [ "$rate" != "off" ] || return 0
  if [ "${NETNS_SHAPE_AT:-bridge}" = "bridge" ]; then
    if ip link show "$ifb" >/dev/null 2>&1 || ip link add "$ifb" type ifb 2>/dev/null; then
      ip link set "$ifb" up
      tc qdisc replace dev "$ifb" root tbf rate "$rate" burst "$burst" latency "$latency"
      tc qdisc add dev "$port" handle ffff: ingress
      tc filter add dev "$port" parent ffff: protocol all u32 match u32 0 0 \
        action mirred egress redirect dev "$ifb"
      return 0
    fi
    echo "netns_bridge: no ifb device here; shaping $ns on its own link" >&2
  fi
  "${in[@]}" tc qdisc replace dev eth0 root tbf rate "$rate" burst "$burst" latency "$latency"
}

case "${1:-}" in
  exec)
    in_rig exec
    [ $# -ge 3 ] || { echo "usage: netns_bridge.sh exec NS CMD..." >&2; exit 2; }
    valid_ns "$2"
    ns=$2
    shift 2
    exec nsenter --net="/run/netns/$ns" "$@"
    ;;
  shape)
    in_rig shape
    [ $# -ge 3 ] && [ $# -le 5 ] || { echo "usage: netns_bridge.sh shape NS RATE|off [BURST [LATENCY]]" >&2; exit 2; }
    shift
    shape "$@"
    exit 0
    ;;
  show)
    in_rig show
    for ns in $(ls /run/netns); do
      at=$(tc qdisc show dev "i-$ns" 2>/dev/null | grep tbf || true)
      [ -n "$at" ] || at=$(nsenter --net="/run/netns/$ns" tc qdisc show dev eth0 | grep tbf || true)
      echo "$ns: $(nsenter --net="/run/netns/$ns" ip -4 -br addr show dev eth0 | awk '{print $3}')," \
        "upload: ${at:-unshaped}"
    done
    exit 0
    ;;
  "" | -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"
    exit 0
    ;;
esac

if [ "${NETNS_BRIDGE_INSIDE:-}" != "1" ]; then
  userns=()
  [ "$(id -u)" -eq 0 ] || userns=(--user --map-root-user)
  # The rig's PID 1 dies with unshare (--kill-child), and every process in the rig with it;
  # the namespaces, the bridge and the /run/netns mounts exist only there. unshare blocks
  # SIGTERM and SIGINT, so this script stays as the PID to kill: TERM, INT or HUP to it
  # kills unshare.
  unshare "${userns[@]}" --net --pid --mount-proc --mount --kill-child \
    env NETNS_BRIDGE_INSIDE=1 "$self" "$@" <&0 &
  rig=$!
  trap 'kill -KILL "$rig" 2>/dev/null' TERM INT HUP
  status=0
  wait "$rig" 2>/dev/null || status=$?
  while kill -0 "$rig" 2>/dev/null; do wait "$rig" 2>/dev/null || status=$?; done
  exit "$status"
fi

# PID 1 of the rig from here.
n=${NETNS_BROWSERS:-3}
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 200 ] || { echo "netns_bridge: NETNS_BROWSERS 1..200" >&2; exit 2; }

# No IPv6 anywhere: late duplicate-address detection reads as a network change to Chromium
# (see tests/e2e/netns.sh).
no_ipv6() {
  "$@" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

no_ipv6
ip link set lo up
mount -t tmpfs tmpfs /run  # a private /run/netns for `ip netns`
ip link add br0 type bridge
ip addr add "$SUBNET.254/24" dev br0
ip link set br0 up

add_ns() {  # NAME ADDRESS
  local name=$1 addr=$2 in=(nsenter --net="/run/netns/$1")
  ip netns add "$name"
  no_ipv6 "${in[@]}"
  ip link add "v-$name" type veth peer name eth0 netns "$name"
  ip link set "v-$name" master br0 up
  "${in[@]}" ip link set lo up
  "${in[@]}" ip addr add "$addr/24" dev eth0
  "${in[@]}" ip link set eth0 up
  # Without a default route Chromium gathers no ICE candidate.
  "${in[@]}" ip route add default dev eth0
}

add_ns origin "$SUBNET.1"
for k in $(seq 1 "$n"); do add_ns "b$k" "$SUBNET.$((10 + k))"; done
[ -z "${ORIGIN_RATE:-}" ] || shape origin "$ORIGIN_RATE"
for spec in ${SHAPE:-}; do shape "${spec%%=*}" "${spec#*=}"; done

# Start-up DNS look-ups stay on loopback (a private mount: every namespace here sees it).
echo "nameserver 127.0.0.1" >/run/resolv.conf
mount --bind /run/resolv.conf /etc/resolv.conf

export NETNS_REAL_CHROMIUM=${NETNS_REAL_CHROMIUM:-${CHROMIUM_PATH:-/usr/lib/chromium/chromium}}
export NETNS_BRIDGE="$self" NETNS_BROWSERS="$n" CHROMIUM_PATH="$here/netns_chromium.sh"
"$@" <&0 &
child=$!
trap 'kill "$child" 2>/dev/null' TERM INT HUP
status=0
wait "$child" || status=$?
# A signal interrupts the first wait: wait for the command itself.
while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
exit "$status"
