#!/usr/bin/env bash
# Installs ferry from BUILD_DIR into a temporary prefix, builds tests/consumer
# against it from a separate folder, and runs both programs.
#   run.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
soversion=$(sed -n 's/^set(FERRY_SOVERSION \([0-9]*\)).*/\1/p' "$here/../../CMakeLists.txt")
for f in lib/libferry.a lib/libferry.so "lib/libferry.so.$soversion" include/ferry/engine.h include/ferry/ferry.h lib/cmake/ferry/ferryConfig.cmake \
         lib/pkgconfig/ferry.pc lib/ferry/ferry.so bin/ferry; do
  [[ -e $work/prefix/$f ]] || { echo "consumer: the install lacks $f" >&2; exit 1; }
done
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# pkg-config names the extension (loaded as `.../ferry`; SQLite adds the suffix).
extension=$(pkg-config --variable=extension ferry)
[[ -e $extension.so ]] || { echo "consumer: pkg-config's extension variable, $extension, names no ferry.so" >&2; exit 1; }
cmake -S "$here" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
for program in consumer_cpp_shared consumer_c; do
  readelf -d "$work/build/$program" | grep -q "NEEDED.*\[libferry\.so\.$soversion\]" ||
    { echo "consumer: $program does not load libferry.so.$soversion" >&2; exit 1; }
done
mkdir "$work/run" "$work/run-shared"
"$work/build/consumer_cpp_shared" "$work/run-shared"
"$work/build/consumer_cpp" "$work/run"
"$work/build/consumer_c" "$work/run"
"$work/prefix/bin/ferry" verify "$work/run/b.db"
