#!/usr/bin/env bash
# Installs everything p2pcdn needs on a Debian 12 machine, idempotently.
# Runs as root (apt-get); safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# Why each package is here is in README.md ("Dependencies").
APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates dpkg-dev
  clang-14 libclang-rt-14-dev clang-format
  libcrypto++-dev
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libssl-dev libhiredis-dev redis-server
  googletest libgtest-dev libbenchmark-dev
  emscripten
  iproute2 util-linux ffmpeg brotli openssl
  chromium firefox-esr fonts-dejavu-core
  wpewebkit-driver libwpewebkit-1.1-0 libwpebackend-fdo-1.0-1
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "setup: run as root to install packages" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (browser drivers, the comparison tracker, ws for Node tests).
if [ ! -d node_modules ] || [ package.json -nt node_modules/.p2pcdn-installed ]; then
  npm install --no-audit --no-fund --loglevel=error
  touch node_modules/.p2pcdn-installed
fi

# Crypto++ sources for the Wasm build come from Debian's source package.
scripts/fetch-cryptopp-src.sh
echo "setup: done"
