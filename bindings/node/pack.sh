#!/usr/bin/env bash
# Makes the npm package: this folder's files and the ferry sources it builds
# from at install (src/, include/, the bundle schemas, the build files), in a
# staging folder, then `npm pack` there. The checkout is left untouched.
#   pack.sh OUT_DIR      -> OUT_DIR/ferry-sqlite-VERSION.tgz (its path printed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# The package's version is tied to what it writes: MAJOR is the bundle format,
# MINOR.PATCH ferry's own minor and patch; package.json must say so.
format=$(sed -n 's/.*kExportFormatMajor = \([0-9]*\);.*/\1/p' "$root/src/bundle/format.h")
ferry_version=$(sed -n 's/^project(ferry VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
expected="$format.${ferry_version#*.}"
declared=$(node -p "require('$here/package.json').version")
[[ $declared == "$expected" ]] || { echo "pack: package.json says $declared; bundle format $format and ferry $ferry_version make $expected" >&2; exit 1; }
[[ $(node -p "require('$here/package.json').ferry.version") == "$ferry_version" ]] ||
  { echo "pack: package.json's ferry.version is not $ferry_version" >&2; exit 1; }
[[ $(node -p "require('$here/package.json').ferry.bundleFormat") == "$format" ]] ||
  { echo "pack: package.json's ferry.bundleFormat is not $format" >&2; exit 1; }
cp "$here"/{package.json,index.js,index.d.ts,build.js,README.md} "$root/LICENSE" "$stage/"
mkdir -p "$stage/ferry/bundle_format"
cp -r "$root/CMakeLists.txt" "$root/src" "$root/include" "$stage/ferry/"
cp "$root"/bundle_format/schema*.sql "$stage/ferry/bundle_format/"
(cd "$stage" && npm pack --silent --pack-destination "$out") | tail -n 1 | sed "s|^|$out/|"
