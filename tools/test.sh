#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine, builds ferry with warnings
# as errors, and runs every test through CTest. The README's second command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
build=${FERRY_BUILD_DIR:-build}
cmake -S . -B "$build" -DFERRY_WERROR=ON -DFERRY_BUILD_TESTS=ON -DFERRY_BUILD_TOOLS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
