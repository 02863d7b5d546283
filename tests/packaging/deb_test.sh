#!/usr/bin/env bash
# The Debian packages (tools/packaging/packaging.cmake), as someone installing
# them would meet them:
#   deb_test.sh BUILD_DIR SOURCE_DIR
# 1. `cpack -G DEB` writes the four packages, each holding what it should;
# 2. lintian finds no error in them;
# 3. unpacked into a temporary root (dpkg-deb -x), they serve the README's C
#    example built with their pkg-config file, a CMake project built with their
#    CMake package (static and shared), the tool, and the extension in sqlite3.
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^project(ferry VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
soversion=$(sed -n 's/^set(FERRY_SOVERSION \([0-9]*\))/\1/p' "$source_dir/CMakeLists.txt")
fail() { echo "deb: $*" >&2; exit 1; }

# 1. The packages and what each holds.
cpack -G DEB -B "$work/out" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
arch=$(dpkg --print-architecture)
declare -A holds=(
  [ferry]="usr/bin/ferry usr/share/man/man1/ferry.1.gz usr/share/bash-completion/completions/ferry"
  [libferry$soversion]="usr/lib/libferry.so.$soversion usr/lib/libferry.so.$version"
  [libferry-dev]="usr/include/ferry/ferry.h usr/include/ferry/engine.h usr/lib/libferry.a usr/lib/libferry.so
                  usr/lib/pkgconfig/ferry.pc usr/lib/cmake/ferry/ferryConfig.cmake"
  [ferry-sqlite]="usr/lib/ferry/ferry.so")
for package in "${!holds[@]}"; do
  deb="$work/out/${package}_${version}_$arch.deb"
  [[ -f $deb ]] || fail "cpack wrote no $package package ($(ls "$work/out"))"
  contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||')
  for file in ${holds[$package]} usr/share/doc/$package/copyright usr/share/doc/$package/changelog.gz; do
    grep -qx "$file" <<<"$contents" || fail "$package lacks $file"
  done
  dpkg-deb -x "$deb" "$work/root"
done
dpkg-deb -f "$work/out/libferry-dev_${version}_$arch.deb" Depends | grep -q "libferry$soversion (= $version)" ||
  fail "libferry-dev does not depend on libferry$soversion of its own version"
dpkg-deb -I "$work/out/libferry${soversion}_${version}_$arch.deb" shlibs | grep -q "^libferry $soversion libferry$soversion" ||
  fail "libferry$soversion has no shlibs entry for libferry.so.$soversion"

# 2. lintian (installed by tools/setup.sh): errors fail the test, warnings are shown.
command -v lintian >/dev/null || fail "lintian is not installed (tools/setup.sh installs it)"
lintian --fail-on error "$work"/out/*.deb 2>&1 | grep -v "running with root privileges" || true
lintian --fail-on error "$work"/out/*.deb >/dev/null 2>&1 || fail "lintian reports errors (above)"

# 3. Used from the unpacked root.
root=$work/root
export LD_LIBRARY_PATH=$root/usr/lib PKG_CONFIG_PATH=$root/usr/lib/pkgconfig
"$root/usr/bin/ferry" --version | grep -q "^ferry $version " || fail "the packaged tool is not version $version"
mkdir "$work/c" && cd "$work/c"
for name in laptop office; do
  sqlite3 "$name.db" "CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT, body TEXT)"
  "$root/usr/bin/ferry" --quiet init "$name.db" --name "$name" && "$root/usr/bin/ferry" --quiet track "$name.db" notes
done
sqlite3 laptop.db "INSERT INTO notes VALUES(1, 'pump', 'check the valve')"
cc -std=c99 -o example "$build/tests/readme_c_example.c" $(pkg-config --cflags --libs ferry)
readelf -d example | grep -q "NEEDED.*libferry.so.$soversion" || fail "the C example does not load libferry.so.$soversion"
./example | grep -q "applied 1, duplicates 0" || fail "the C example, built against the package, did not sync"
[[ $(sqlite3 office.db "SELECT body FROM notes WHERE id = 1") == "check the valve" ]] || fail "office.db lacks the row"
cmake -S "$source_dir/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$root/usr" >/dev/null
cmake --build "$work/consumer" >/dev/null
mkdir "$work/run" "$work/run-shared"
"$work/consumer/consumer_cpp" "$work/run" >/dev/null
"$work/consumer/consumer_cpp_shared" "$work/run-shared" >/dev/null
got=$(sqlite3 :memory: ".load $root/usr/lib/ferry/ferry" "SELECT ferry_version()")
[[ $got == "$version" ]] || fail "the packaged extension says version '$got'"
echo "deb: 4 packages of ferry $version, lintian clean of errors, used unpacked from C, C++ (static and shared), the tool and sqlite3"
