#!/usr/bin/env bash
# Installs better-sqlite3@12 and typescript@5 from the npm registry into
# FERRY_NODE_MODULES, for the extension's Node test (tests/embedding/extension_test.js)
# and the npm package's (tests/embedding/npm_package.sh), wherever
# Node.js 20 or newer and npm are present (better-sqlite3 12 needs 20; Debian
# 12's own nodejs is 18, and then the test is not built). Idempotent.
set -euo pipefail
dir=${FERRY_NODE_MODULES:?set FERRY_NODE_MODULES (tools/test.sh does)}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup-node: no node and npm here: the extension's Node test is left out" >&2
  exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 20)); then
  echo "setup-node: node $major is older than better-sqlite3@12 needs (20): the extension's Node test is left out" >&2
  exit 0
fi
[[ -f $dir/node_modules/better-sqlite3/build/Release/better_sqlite3.node && -x $dir/node_modules/.bin/tsc ]] && exit 0
mkdir -p "$dir"
if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error better-sqlite3@12 typescript@5 >"$dir/install.log" 2>&1; then
  echo "setup-node: npm could not install better-sqlite3@12 and typescript@5 into $dir:" >&2
  tail -n 20 "$dir/install.log" >&2
  exit 1
fi
