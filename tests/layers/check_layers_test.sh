#!/usr/bin/env bash
# The layer check passes on the tree as it is, and fails, naming the file, on
# a copy with each kind of fault: a folder including one above it or beside
# it, a stage calling SQLite directly or opening the Engine it serves, the
# tool including a private header.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
check="$here/tools/check_layers.sh"
bash "$check" "$here"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
expect_failure() {  # NAME FILE LINE EXPECTED-WORDS
  rm -rf "$work/tree" && mkdir -p "$work/tree/tools"
  cp -r "$here/src" "$work/tree/src" && cp -r "$here/tools/ferry" "$work/tree/tools/ferry"
  echo "$3" >>"$work/tree/$2"
  if out=$(bash "$check" "$work/tree" 2>&1); then
    echo "FAIL: $1: the check passed"; exit 1
  fi
  grep -qF "$4" <<<"$out" || { echo "FAIL: $1: expected '$4' in:"; echo "$out"; exit 1; }
  echo "ok: $1"
}
expect_failure "upward include" src/merge/merger.h '#include "engine/engine_impl.h"' \
  "src/merge/merger.h:"
expect_failure "same-level include" src/history/replay.h '#include "identity/identity.h"' \
  "src/history includes src/identity"
expect_failure "SQLite called outside src/sql" src/log/store.cc 'int f(sqlite3* d) { return sqlite3_changes(d); }' \
  "calls SQLite outside src/sql/"
expect_failure "a stage opens the facade" src/history/history.cc 'static auto e = ferry::Engine::open("x");' \
  "opens an Engine below src/engine/"
expect_failure "tool includes a private header" tools/ferry/render.h '#include "log/codec.h"' \
  "tools/ferry includes"
