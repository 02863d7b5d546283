#!/usr/bin/env bash
# Runs the convergence property at length (100,000 scenarios by default).
#   tools/convergence.sh [SCENARIOS] [SEED]     e.g. tools/convergence.sh 100000
# A failure prints the seed that diverged; replay it with FERRY_SCENARIOS=1 FERRY_SEED=<seed>.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FERRY_BUILD_DIR:-build}
[[ -x $build/tests/ferry_property_tests ]] || bash tools/test.sh >/dev/null
FERRY_SCENARIOS=${1:-100000} FERRY_SEED=${2:-$RANDOM$RANDOM} "$build/tests/ferry_property_tests" --durations yes
