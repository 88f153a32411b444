#!/usr/bin/env bash
# Assembles a servable site: web_app/<site>/ + generated media + dist/ under /p2pcdn/, and
# the manifest the service worker trusts. Usage: scripts/build-site.sh [demo|site] [OUT]
# Needs build/native (p2pcdn-manifest) and dist/ (scripts/build.sh native, wasm).
# Media are made once with ffmpeg's test sources: nothing downloaded, nothing committed.
set -euo pipefail
cd "$(dirname "$0")/.."
site=${1:-demo}
out=${2:-build/site/$site}
media=build/media
mkdir -p "$media"

make_media() {  # NAME FFMPEG-ARGS...
  local name=$1
  shift
  [ -f "$media/$name" ] || ffmpeg -loglevel error -y "$@" "$media/$name"
}

demo_media() {
  make_media logo.png -f lavfi -i testsrc2=size=120x90 -frames:v 1
  make_media animation.gif -f lavfi -i testsrc2=size=480x270:rate=12 -t 12
  make_media video.webm -f lavfi -i testsrc2=size=640x360:rate=25 -t 20 \
    -c:v libvpx -b:v 3M -deadline realtime -cpu-used 8
  mkdir -p "$out/media"
  cp "$media"/logo.png "$media"/animation.gif "$media"/video.webm "$out/media/"
}

# A small company site: photos of a few hundred KB to ~1 MB, a hero and a banner in CSS,
# two web fonts.
site_media() {
  local i
  for i in 1 2 3 4 5 6 7 8; do
    make_media "photo-$i.jpg" -f lavfi -i "mandelbrot=size=1600x1000:start_scale=$((i + 1)):end_pts=1" \
      -frames:v 1 -q:v 2
  done
  make_media hero.jpg -f lavfi -i testsrc2=size=2400x900 -vf "noise=alls=40:allf=t" -frames:v 1 -q:v 3
  make_media banner.jpg -f lavfi -i "cellauto=size=2000x400:rule=30" -frames:v 1 -q:v 2
  mkdir -p "$out/assets/img" "$out/assets/fonts"
  cp "$media"/photo-*.jpg "$media"/hero.jpg "$media"/banner.jpg "$out/assets/img/"
  cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$out/assets/fonts/SiteSans.ttf"
  cp /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf "$out/assets/fonts/SiteSans-Bold.ttf"
}

rm -rf "$out"
mkdir -p "$out/p2pcdn"
cp -r "web_app/$site/." "$out/"
case "$site" in
  demo) demo_media ;;
  site) site_media ;;
  *) echo "build-site: unknown site $site" >&2; exit 2 ;;
esac
cp dist/p2pcdn.js dist/p2pcdn-core.wasm dist/p2pcdn-sw.js "$out/p2pcdn/"
build/native/server/p2pcdn-manifest "$out" --out "$out/p2pcdn/manifest.json"
# p2pcdn's own files, precompressed: p2pcdn-server sends "x.gz" to clients that take gzip
# (~280 KB -> ~90 KB on a first visit). Made after the manifest, which lists neither.
gzip -9 -k -f "$out"/p2pcdn/p2pcdn.js "$out"/p2pcdn/p2pcdn-core.wasm "$out"/p2pcdn/p2pcdn-sw.js "$out"/p2pcdn/manifest.json
