#!/usr/bin/env bash
# Runs a command inside a private network namespace with a veth pair, so browsers get ICE
# host candidates with no STUN/TURN and no traffic leaves the box. Being PID 1 of its own PID
# namespace, the inner shell takes every stray process with it.
#   default:      both ends in this namespace: 10.99.0.1 (veth0) and 10.99.0.2 (veth1).
#   ORIGIN_NS=1:  veth1 (10.99.0.2) sits in a namespace of its own named "origin", for a
#                 server whose link to the browsers can be shaped: ORIGIN_RATE=20mbit applies
#                 tc tbf to its server-to-browser direction. Browsers and peers stay outside.
set -euo pipefail
if [ "${P2PCDN_IN_NETNS:-}" != "1" ]; then
  userns=()
  [ "$(id -u)" -eq 0 ] || userns=(--user --map-root-user)
  exec unshare "${userns[@]}" --net --pid --fork --mount-proc --mount \
    env P2PCDN_IN_NETNS=1 "$0" "$@"
fi
# No IPv6: its link-local addresses finish duplicate-address detection a second or two
# after the links come up, which Chromium reports as a network change that fails requests
# under way (ERR_NETWORK_CHANGED) in a browser started just before.
no_ipv6() {
  "$@" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
no_ipv6
ip link set lo up
if [ "${ORIGIN_NS:-}" = "1" ]; then
  mount -t tmpfs tmpfs /run  # a private /run/netns for `ip netns`
  ip netns add origin
  far=(ip netns exec origin)
  no_ipv6 "${far[@]}"
  ip link add veth0 type veth peer name veth1 netns origin
else
  ip link add veth0 type veth peer name veth1
  far=()
fi
ip addr add 10.99.0.1/24 dev veth0
ip link set veth0 up
"${far[@]}" ip link set lo up
"${far[@]}" ip addr add 10.99.0.2/24 dev veth1
"${far[@]}" ip link set veth1 up
ip route add default dev veth0  # without a default route Chromium gathers no candidate
if [ -n "${ORIGIN_RATE:-}" ]; then
  "${far[@]}" tc qdisc add dev veth1 root tbf rate "$ORIGIN_RATE" burst 64kb latency 200ms
fi
# Start-up DNS look-ups stay on loopback.
resolv=$(mktemp)
echo "nameserver 127.0.0.1" >"$resolv"
mount --bind "$resolv" /etc/resolv.conf
"$@"
