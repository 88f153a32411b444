#!/usr/bin/env bash
# Runs every test: installs what is missing, builds each configuration, runs each suite.
# A failing suite fails the script, after the others have run and reported.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
passed=0
failed=0
failures=()

# Each suite's wall time is printed after it: CI must finish well inside 90 minutes on two
# cores, and these say where the time goes.
suite() {
  local name=$1 started=$SECONDS
  shift
  echo
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: passed in $((SECONDS - started)) s"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED in $((SECONDS - started)) s"
  fi
}

fuzz() {
  local target=$1 corpus status=0
  corpus=$(mktemp -d)
  "build/fuzz/tests/fuzz/$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" tests/fuzz/seeds >"$corpus.log" 2>&1 || status=$?
  tail -n 8 "$corpus.log"
  rm -rf "$corpus" "$corpus.log"
  return "$status"
}

# Each suite builds what it runs, chained with &&: suites run inside `if`, where set -e does
# not apply, and a failed build must never run stale binaries.
native_tests() { scripts/build.sh native && ctest --test-dir build/native --output-on-failure; }
asan_tests() {
  scripts/build.sh asan &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build/asan --output-on-failure
}
wasm_tests() { scripts/build.sh wasm && ctest --test-dir build/wasm --output-on-failure; }
e2e_tests() { scripts/build-site.sh demo && scripts/build-site.sh site && tests/e2e/netns.sh node --test tests/e2e/; }
# The end-to-end suites again with every visitor a Firefox one; what needs a Chromium-only
# instrument (CDP) is skipped there by name. Not firefox (mixed pairs, run above), package
# (npm bundling), wpe (its own browser), first_visit_media (Chromium's media pipeline under
# CDP throttling), scale_out (not tried in Firefox).
E2E_FIREFOX_FILES=(p2p pieces site video hostile visitor setup_check adoption back_forward loader)
e2e_firefox() {
  local files=("${E2E_FIREFOX_FILES[@]/#/tests/e2e/}")
  scripts/build-site.sh demo && scripts/build-site.sh site &&
    P2PCDN_E2E_BROWSER=firefox tests/e2e/netns.sh node --test "${files[@]/%/.test.mjs}"
}
fuzz_frames() { scripts/build.sh fuzz && fuzz frame_decoder_fuzz; }
fuzz_signaling() { scripts/build.sh fuzz && fuzz signal_codec_fuzz; }
fuzz_assembler() { scripts/build.sh fuzz && fuzz chunk_assembler_fuzz; }
fuzz_websocket() { scripts/build.sh fuzz && fuzz ws_frame_reader_fuzz; }
fuzz_scheduler() { scripts/build.sh fuzz && fuzz piece_scheduler_fuzz; }

suite "format (clang-format)" scripts/check-format.sh
suite "native: core + server tests" native_tests
suite "ASan+UBSan: core + server tests" asan_tests
suite "Wasm: core tests under Node" wasm_tests
suite "JS binding tests, Node" node --test tests/js/
suite "end-to-end, Chromium in a network namespace" e2e_tests
suite "end-to-end, Firefox in a network namespace (${E2E_FIREFOX_FILES[*]})" e2e_firefox
suite "fuzz frame decoder ${FUZZ_SECONDS}s" fuzz_frames
suite "fuzz signaling codec ${FUZZ_SECONDS}s" fuzz_signaling
suite "fuzz chunk assembler ${FUZZ_SECONDS}s" fuzz_assembler
suite "fuzz WebSocket frame reader ${FUZZ_SECONDS}s" fuzz_websocket
suite "fuzz piece scheduler ${FUZZ_SECONDS}s" fuzz_scheduler

echo
[ "$failed" -eq 0 ] || printf 'failed suite: %s\n' "${failures[@]}"
echo "suites: $passed passed, $failed failed, $SECONDS s in all"
[ "$failed" -eq 0 ]
