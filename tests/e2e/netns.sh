#!/usr/bin/env bash
# Runs a command inside a private network namespace with a veth pair, so browsers get ICE
# host candidates (10.99.0.1, 10.99.0.2) with no STUN/TURN and no traffic leaves the box.
# Being PID 1 of its own PID namespace, the inner shell takes every stray process with it.
set -euo pipefail
if [ "${P2PCDN_IN_NETNS:-}" != "1" ]; then
  userns=()
  [ "$(id -u)" -eq 0 ] || userns=(--user --map-root-user)
  exec unshare "${userns[@]}" --net --pid --fork --mount-proc --mount \
    env P2PCDN_IN_NETNS=1 "$0" "$@"
fi
ip link set lo up
ip link add veth0 type veth peer name veth1
ip addr add 10.99.0.1/24 dev veth0
ip addr add 10.99.0.2/24 dev veth1
ip link set veth0 up
ip link set veth1 up
ip route add default dev veth0  # without a default route Chromium gathers no candidate
# Start-up DNS look-ups stay on loopback.
resolv=$(mktemp)
echo "nameserver 127.0.0.1" >"$resolv"
mount --bind "$resolv" /etc/resolv.conf
"$@"
