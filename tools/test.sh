#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine, builds ferry with warnings
# as errors, and runs every test through CTest. The README's second command.
#   FERRY_SANITIZE=1 tools/test.sh   the same under AddressSanitizer and UBSan (build-asan/)
#   tools/test.sh --quick            the unit and end-to-end tests only, without the
#                                    minutes-long ones (convergence property, OOM loops,
#                                    packages, the include check): a few minutes
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
case ${1:-} in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: tools/test.sh [--quick]" >&2; exit 2 ;;
esac
bash tools/setup.sh
options=(-DFERRY_WERROR=ON -DFERRY_BUILD_TESTS=ON -DFERRY_BUILD_TOOLS=ON)
skip=()
if [[ ${FERRY_SANITIZE:-0} == 1 ]]; then
  build=${FERRY_BUILD_DIR:-build-asan}
  flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
  # -g1: line tables, all a sanitizer's report needs, for a fifth less compile time than -g.
  options+=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 "-DCMAKE_CXX_FLAGS=$flags"
    "-DCMAKE_EXE_LINKER_FLAGS=$flags" -DFERRY_SANITIZED=ON
    -DFERRY_BUILD_BENCHMARKS=OFF)  # Their smoke tests run in the plain build; their figures mean nothing here.
  export FERRY_SCENARIOS=${FERRY_SCENARIOS:-8}  # In each of the property's two runs: slow under the sanitizers (1,000 run unsanitized),
  # and so is failing every allocation in turn: here every one of the first
  # 150 and then steps of a thirtieth (the unsanitized run fails each one of them).
  export FERRY_OOM_ALL_UP_TO=${FERRY_OOM_ALL_UP_TO:-150}
  # The clock-skew scenarios (TI-01) are here for UBSan at the ends of time: 10 of the plain run's 30.
  export FERRY_SKEW_SCENARIOS=${FERRY_SKEW_SCENARIOS:-10}
  # The crash tests (tests/unit/crash_test.cc) check what a SIGKILL at 40-60
  # points (or a power cut at each sync, or two importers racing) leaves on disk; the unsanitized run does that, and each kill costs
  # ten times as much here, where CI's 30 minutes cannot afford it. So does the
  # -o test, which runs the tool some hundred times (its paths run here in the
  # end-to-end tests), and the include check, which compiles headers and runs
  # nothing sanitized, and the packaging checks, which read what the build made
  # (symbols, the man page) and run nothing of ferry's that the plain run does not.
  # So do the demo and the README's walks (every verb they run has its e2e test
  # here) and the bit flips at every byte of every field (fuzz_bundle runs under
  # these sanitizers too).
  skip=(-E "killed at any moment|cut by a power loss|at the same moment|stopped while it holds the write lock|never replaces the database|every_include_points_down|man_page|exports_the_public|exports_its_entry|demo_story|a bit flipped anywhere|every command of the README|README: three devices")
else
  build=${FERRY_BUILD_DIR:-build}
  # The property runs twice, with seeds of each run's own (tests/CMakeLists.txt): 1,000 scenarios in all.
  export FERRY_SCENARIOS=${FERRY_SCENARIOS:-500}
  # The export's OOM loops fail one allocation in ten after the first 150, from
  # an offset that moves every day (tests/fault/oom_test.cc); the import's, the
  # reliability matrix's ST-06, one in two, alternating daily: two days of CI
  # fail every one (CI's 30 minutes).
  export FERRY_OOM_EXPORT_STRIDE=${FERRY_OOM_EXPORT_STRIDE:-10}
  export FERRY_OOM_EXPORT_OFFSET=${FERRY_OOM_EXPORT_OFFSET:-$((10#$(date +%j) % 10))}
  export FERRY_OOM_IMPORT_STRIDE=${FERRY_OOM_IMPORT_STRIDE:-2}
  export FERRY_OOM_IMPORT_OFFSET=${FERRY_OOM_IMPORT_OFFSET:-$((10#$(date +%j) % 2))}
  # The default build type's optimization, with line tables only (-g1): the
  # same code, a fifth to a third less compile time than -g.
  options+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
fi
if ((quick)); then
  skip=(-LE "property|fault|packaging"
        -E "npm_package|python_package|an_installed_ferry|every_include_points_down|extension_from_node")
fi
node_setup=""
if [[ ${FERRY_SANITIZE:-0} != 1 && $quick == 0 ]]; then
  # better-sqlite3 for the extension's Node test, built while ferry builds.
  export FERRY_NODE_MODULES=${FERRY_NODE_MODULES:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry/node}
  options+=("-DFERRY_NODE_MODULES=$FERRY_NODE_MODULES/node_modules")
  bash tools/setup_node.sh &
  node_setup=$!
fi
started=$SECONDS
cmake -S . -B "$build" "${options[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
if [[ -n $node_setup ]]; then wait "$node_setup"; fi
built=$SECONDS
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "${skip[@]}"
echo "tools/test.sh ($build): set up in $started s, built in $((built - started)) s, tested in $((SECONDS - built)) s"
