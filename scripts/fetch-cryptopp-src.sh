#!/usr/bin/env bash
# Fetches Debian's source package of Crypto++ into third_party/cryptopp-src
# (never committed) so the Wasm build can compile it with em++.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=third_party/cryptopp-src
[ -f "$dest/sha.cpp" ] && exit 0

# Enable deb-src for the same mirrors the machine already uses for binaries.
src_list=/etc/apt/sources.list.d/p2pcdn-deb-src.sources
if ! apt-get source --help >/dev/null 2>&1 || [ ! -f "$src_list" ]; then
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$src_list"
  elif [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >/etc/apt/sources.list.d/p2pcdn-deb-src.list
  fi
  apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source --download-only -qq libcrypto++ >/dev/null 2>&1 || apt-get source --download-only libcrypto++)
orig=$(ls "$work"/libcrypto++_*.orig.tar.* | head -n1)
mkdir -p "$dest.tmp"
tar -xf "$orig" -C "$dest.tmp" --strip-components=1 2>/dev/null || true
# Some orig tarballs have no top-level folder.
if [ ! -f "$dest.tmp/sha.cpp" ]; then
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"; tar -xf "$orig" -C "$dest.tmp"
fi
[ -f "$dest.tmp/sha.cpp" ] || { echo "fetch-cryptopp-src: sha.cpp not found in $orig" >&2; exit 1; }
rm -rf "$dest"; mv "$dest.tmp" "$dest"
echo "fetch-cryptopp-src: Crypto++ sources in $dest"
