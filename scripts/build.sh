#!/usr/bin/env bash
# Builds one configuration: native | asan | wasm | fuzz. Output in build/<name>.
# Warnings are errors under CI (CI=true), as in libdatachannel's CI.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:?usage: scripts/build.sh native|asan|wasm|fuzz}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON

case "$config" in
  native)
    cmake -S . -B build/native -G Ninja -DP2PCDN_WERROR=$werror -DP2PCDN_BENCH=ON >/dev/null ;;
  asan)
    cmake -S . -B build/asan -G Ninja -DP2PCDN_WERROR=$werror -DP2PCDN_SANITIZE=ON \
      -DP2PCDN_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ;;
  fuzz)
    CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DP2PCDN_WERROR=$werror \
      -DP2PCDN_FUZZ=ON -DP2PCDN_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ;;
  wasm)
    scripts/fetch-cryptopp-src.sh
    # Debian's toolchain sets `node --experimental-wasm-threads` as the test emulator,
    # which Node 20 rejects.
    emcmake cmake -S . -B build/wasm -G Ninja -DP2PCDN_WERROR=$werror \
      -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node >/dev/null ;;
  *) echo "unknown configuration: $config" >&2; exit 2 ;;
esac
if [ "$config" = fuzz ]; then
  # the fuzzers only
  cmake --build build/fuzz --target frame_decoder_fuzz signal_codec_fuzz chunk_assembler_fuzz \
    ws_frame_reader_fuzz piece_scheduler_fuzz
else
  cmake --build "build/$config"
fi
