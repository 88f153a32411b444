#!/usr/bin/env bash
# Like tests/e2e/netns.sh, but the origin gets a namespace of its own ("origin", 10.99.0.2)
# behind a veth link whose server-to-browser direction can be shaped with tc
# (ORIGIN_RATE, e.g. 20mbit; unset: full speed). Browsers stay in the outer namespace
# (10.99.0.1), so peer traffic never crosses the shaped link.
set -euo pipefail
if [ "${P2PCDN_IN_NETNS:-}" != "1" ]; then
  userns=()
  [ "$(id -u)" -eq 0 ] || userns=(--user --map-root-user)
  exec unshare "${userns[@]}" --net --pid --fork --mount-proc --mount \
    env P2PCDN_IN_NETNS=1 "$0" "$@"
fi
mount -t tmpfs tmpfs /run  # a private /run/netns for `ip netns`
ip link set lo up
ip netns add origin
ip link add veth0 type veth peer name veth1 netns origin
ip addr add 10.99.0.1/24 dev veth0
ip link set veth0 up
ip route add default dev veth0  # Chromium gathers no candidate without a default route
ip netns exec origin ip link set lo up
ip netns exec origin ip addr add 10.99.0.2/24 dev veth1
ip netns exec origin ip link set veth1 up
if [ -n "${ORIGIN_RATE:-}" ]; then
  ip netns exec origin tc qdisc add dev veth1 root tbf rate "$ORIGIN_RATE" burst 64kb latency 200ms
fi
resolv=$(mktemp)
echo "nameserver 127.0.0.1" >"$resolv"
mount --bind "$resolv" /etc/resolv.conf
"$@"
