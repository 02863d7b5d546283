#!/usr/bin/env bash
# Installs, idempotently, the Debian packages ferry needs to build and test.
# Called first by both of the README's commands and by .ci/run.
set -euo pipefail
packages=(g++ cmake make libsqlite3-dev sqlite3 libmsgpack-cxx-dev libssl-dev libzstd-dev catch2
          libcli11-dev nlohmann-json3-dev python3 clang libclang-rt-14-dev pkgconf groff-base
          dpkg-dev lintian python3-venv
          dosfstools fusefat)  # A FAT-formatted stick for ferry sync's test (tests/e2e/sync_test.cc).
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
