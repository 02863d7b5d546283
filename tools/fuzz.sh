#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, AddressSanitizer, UBSan) in build-fuzz/
# and runs each for a while on a scratch copy of the checked-in seed corpus.
#   tools/fuzz.sh              30 s per harness, as many at once as there are cores (CI runs 15)
#   tools/fuzz.sh 3600         an hour per harness
# A finding stops the run, prints the sanitizer report and leaves the input
# as build-fuzz/findings/<harness>/crash-*; turn it into a regression test
# (tests/unit/) and add it to tests/fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
bash tools/setup.sh
build=${FERRY_FUZZ_BUILD_DIR:-build-fuzz}
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: the reader lets failed signatures through (bundle/reader.cc),
# so that mutations reach everything behind them; this build is never used for anything else.
# Line tables only: all a finding's report needs, for less compile time than -g;
# -O1, as libFuzzer's documentation builds, compiles in less time than -O2 (CI's 30 minutes).
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -gline-tables-only"
flags="$flags -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_BUILD_FUZZERS=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG" \
  -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_TOOLS=OFF -DFERRY_BUILD_BENCHMARKS=OFF -DFERRY_WERROR=ON \
  "-DCMAKE_CXX_FLAGS=$flags" "-DCMAKE_C_FLAGS=$flags" >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_bundle fuzz_fingerprint fuzz_operation fuzz_segment
# One harness: on a scratch copy of its seed corpus; its findings stay.
fuzz() {
  local harness=$1 corpus findings log
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/$harness/* "$corpus"/
  findings="$build/findings/$harness"
  mkdir -p "$findings"
  log="$findings.log"
  if ! "$build/tests/fuzz/fuzz_$harness" "$corpus" -max_total_time="$seconds" -artifact_prefix="$findings/" \
      -print_final_stats=1 -max_len=65536 -timeout=20 -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -n 80 "$log" >&2
    echo "fuzz_$harness found a problem: the input is in $findings/, the whole log in $log" >&2
    rm -rf "$corpus"
    return 1
  fi
  { echo "fuzz_$harness: $seconds s from $(ls tests/fuzz/corpus/$harness | wc -l) seed inputs"
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$log" | sed "s/^/  /"; }
  rm -rf "$corpus"
}
# As many harnesses at once as there are cores (each fuzzes on one).
harnesses=(bundle fingerprint operation segment)
lanes=$(nproc)
failed=0
mkdir -p "$build/findings"
for ((i = 0; i < ${#harnesses[@]}; i += lanes)); do
  pids=()
  for harness in "${harnesses[@]:i:lanes}"; do
    fuzz "$harness" > "$build/findings/$harness.summary" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  for harness in "${harnesses[@]:i:lanes}"; do cat "$build/findings/$harness.summary"; done
done
if ((failed)); then exit 1; fi
echo "fuzzing found nothing (tools/fuzz.sh: $SECONDS s, its build included)"
