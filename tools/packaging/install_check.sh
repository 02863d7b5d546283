#!/usr/bin/env bash
# Builds the Debian packages, installs them with apt as a user would, uses
# them, removes them, and checks that nothing of them is left. It changes the
# system it runs on, so it is for a throwaway root, not for CI's tests (which
# unpack the packages instead, tests/packaging/deb_test.sh):
#   ../shared/tools/fresh-debian.sh 'bash tools/packaging/install_check.sh'
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup.sh
cmake -S . -B build-packages -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-packages -j"$(nproc)" >/dev/null
(cd build-packages && rm -f ./*.deb && cpack -G DEB >/dev/null)
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q ./build-packages/*.deb >/dev/null
ferry --version
ferry help export | head -n 2
man -w ferry
pkg-config --modversion ferry
bash -ic 'complete -p ferry' 2>/dev/null || test -f /usr/share/bash-completion/completions/ferry
work=$(mktemp -d)
sqlite3 "$work/a.db" "CREATE TABLE notes(id INTEGER PRIMARY KEY, t TEXT); INSERT INTO notes VALUES(1, 'x')"
ferry init "$work/a.db" --name a && ferry track "$work/a.db" notes && ferry export "$work/a.db" --all -o "$work/a.ferry"
sqlite3 "$work/a.db" ".load /usr/lib/ferry/ferry" "SELECT ferry_version()"
apt-get purge -y -q ferry $(dpkg-query -W -f='${Package} ' 'libferry[0-9]*') libferry-dev ferry-sqlite >/dev/null
left=$(ls /usr/bin/ferry /usr/lib/libferry* /usr/lib/ferry /usr/include/ferry /usr/share/doc/ferry \
          /usr/share/man/man1/ferry.1.gz /usr/lib/pkgconfig/ferry.pc /usr/lib/cmake/ferry 2>/dev/null || true)
[[ -z $left ]] || { echo "install_check: left after purge: $left" >&2; exit 1; }
echo "install_check: installed, used and removed cleanly"
