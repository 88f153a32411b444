#!/usr/bin/env bash
# Assembles a servable site: web_app/<site>/ + generated media + dist/ under /p2pcdn/, and
# the manifest the service worker trusts. Usage: scripts/build-site.sh [demo] [OUT]
# Needs build/native (p2pcdn-manifest) and dist/ (scripts/build.sh native, wasm).
set -euo pipefail
cd "$(dirname "$0")/.."
site=${1:-demo}
out=${2:-build/site/$site}
media=build/media

# Demo media, made once with ffmpeg's test sources (nothing downloaded, nothing committed).
mkdir -p "$media"
[ -f "$media/logo.png" ] || ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=120x90 -frames:v 1 "$media/logo.png"
[ -f "$media/animation.gif" ] || ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=480x270:rate=12 -t 12 "$media/animation.gif"
[ -f "$media/video.webm" ] || ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25 -t 20 \
  -c:v libvpx -b:v 3M -deadline realtime -cpu-used 8 "$media/video.webm"

rm -rf "$out"
mkdir -p "$out/media" "$out/p2pcdn"
cp -r "web_app/$site/." "$out/"
cp "$media"/logo.png "$media"/animation.gif "$media"/video.webm "$out/media/"
cp dist/p2pcdn.js dist/p2pcdn-core.wasm dist/p2pcdn-sw.js "$out/p2pcdn/"
build/native/server/p2pcdn-manifest "$out" --out "$out/p2pcdn/manifest.json"
