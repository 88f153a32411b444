#!/usr/bin/env bash
# Assembles a servable site: web_app/<site>/ + generated media + dist/ under /p2pcdn/, and
# the manifest the service worker trusts. Usage: scripts/build-site.sh [demo|site] [OUT]
# Needs build/native (p2pcdn-manifest), dist/ (scripts/build.sh native, wasm) and, for the
# demo, node_modules/hls.js (scripts/setup.sh).
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
  [ -f "$media/$name" ] && return
  # Written under a temporary name (same extension: it picks the format), so an interrupted
  # run leaves no truncated file that later runs would keep.
  ffmpeg -loglevel error -y "$@" "$media/.part-$name"
  mv "$media/.part-$name" "$media/$name"
}

# The test picture of the video pages: testsrc2 with a large running timecode, and grain so
# that the encoders spend the bit rate they are given (testsrc2 alone compresses to little).
film_picture() {
  local font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf
  echo "noise=alls=12:allf=t,drawtext=fontfile=$font:text='%{pts\:hms}':x=(w-tw)/2:y=h-th-40:fontsize=64:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12"
}

demo_media() {
  make_media logo.png -f lavfi -i testsrc2=size=120x90 -frames:v 1
  make_media animation.gif -f lavfi -i testsrc2=size=480x270:rate=12 -t 12
  make_media video.webm -f lavfi -i testsrc2=size=640x360:rate=25 -t 20 \
    -c:v libvpx -b:v 3M -deadline realtime -cpu-used 8
  # video.html: a progressive film, 60 s of 720p VP9 at ~5.3 Mbit/s (~40 MB), a keyframe
  # every 2 s, its index (Cues) at the front so a seek needs no read of the file's end.
  make_media film.webm -f lavfi -i testsrc2=size=1280x720:rate=25 -t 60 -vf "$(film_picture)" \
    -c:v libvpx-vp9 -b:v 5300k -minrate 5300k -maxrate 5300k -g 50 -keyint_min 50 \
    -deadline realtime -cpu-used 8 -row-mt 1 -cues_to_front 1
  # hls.html: the same picture as an HLS stream (what hls.js plays everywhere: H.264 in
  # MPEG-TS), 60 s in 4 s segments of ~2.5 MB, a keyframe every 2 s.
  if [ ! -f "$media/hls/stream.m3u8" ]; then
    rm -rf "$media/.part-hls" "$media/hls"
    mkdir -p "$media/.part-hls"
    ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 60 -vf "$(film_picture)" \
      -c:v libx264 -preset ultrafast -pix_fmt yuv420p -b:v 5M -maxrate 5M -bufsize 5M \
      -g 50 -keyint_min 50 -sc_threshold 0 \
      -f hls -hls_time 4 -hls_playlist_type vod -hls_flags independent_segments \
      -hls_segment_filename "$media/.part-hls/seg-%03d.ts" "$media/.part-hls/stream.m3u8"
    mv "$media/.part-hls" "$media/hls"
  fi
  mkdir -p "$out/media" "$out/vendor"
  cp "$media"/logo.png "$media"/animation.gif "$media"/video.webm "$media"/film.webm "$out/media/"
  cp -r "$media/hls" "$out/media/"
  # hls.js (npm, scripts/setup.sh installs it) plays the HLS stream through MSE.
  cp node_modules/hls.js/dist/hls.min.js "$out/vendor/"
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
# p2pcdn's own files, precompressed: p2pcdn-server sends "x.br" to clients that take brotli
# and "x.gz" to those that take only gzip (bench/first_visit_bytes.mjs measures them). Made
# after the manifest, which lists neither, and after each file, so none is older than it
# (the server ignores a stale sibling). Brotli at quality 11 from Node's own zlib: no other
# package needed; text mode for the JS and JSON, generic for the Wasm.
p2p=("$out"/p2pcdn/p2pcdn.js "$out"/p2pcdn/p2pcdn-core.wasm "$out"/p2pcdn/p2pcdn-sw.js "$out"/p2pcdn/manifest.json)
gzip -9 -k -f "${p2p[@]}"
node -e '
const fs = require("fs");
const zlib = require("zlib");
const {BROTLI_PARAM_QUALITY, BROTLI_MAX_QUALITY, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT,
       BROTLI_MODE_GENERIC, BROTLI_PARAM_SIZE_HINT} = zlib.constants;
for (const file of process.argv.slice(1)) {
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file + ".br", zlib.brotliCompressSync(bytes, {params: {
    [BROTLI_PARAM_QUALITY]: BROTLI_MAX_QUALITY,
    [BROTLI_PARAM_MODE]: /\.(js|json)$/.test(file) ? BROTLI_MODE_TEXT : BROTLI_MODE_GENERIC,
    [BROTLI_PARAM_SIZE_HINT]: bytes.length,
  }}));
}' "${p2p[@]}"
