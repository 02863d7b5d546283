#!/usr/bin/env bash
# ferry's main job, as a story: three devices that never go online keep one
# SQLite database each and sync through bundle files on a "USB stick" (a
# folder), each running `ferry sync` on it in turn. Sets everything up on a fresh Debian 12 machine, builds ferry, then
# plays the story in a temporary folder (or in DIR: tools/demo.sh DIR).
# Every command it runs is printed, so you can repeat them by hand.
# FERRY_BINARY_DIR=DIR uses the ferry binary in DIR and skips set-up and build (the tests do).
set -euo pipefail
work=${1:-$(mktemp -d /tmp/ferry-demo-XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)  # Absolute, before leaving the caller's folder.
cd "$(dirname "$0")/.."
if [[ -z ${FERRY_BINARY_DIR:-} ]]; then
  bash tools/setup.sh
  build=${FERRY_BUILD_DIR:-build}
  echo "building ferry (first time takes a minute)..."
  cmake -S . -B "$build" >/dev/null
  cmake --build "$build" -j"$(nproc)" --target ferry_cli >/dev/null
  FERRY_BINARY_DIR="$PWD/$build/tools"
fi
export PATH="$FERRY_BINARY_DIR:$PATH"

if [[ -n $(ls -A "$work") ]]; then
  echo "demo: $work is not empty; give an empty or new folder" >&2
  exit 2
fi
mkdir -p "$work/usb"
cd "$work"

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '  $ %s\n' "$*"; "$@" | sed 's/^/    /'; }

say "In $work: three devices -- the office, a clinic laptop, a field tablet."
say "1. Each starts from the same schema; the office already has patient records."
for device in office laptop tablet; do
  sqlite3 "$device.db" "CREATE TABLE patients(id TEXT PRIMARY KEY, name TEXT NOT NULL, village TEXT, phone TEXT);
                        CREATE TABLE visits(patient TEXT, day TEXT, note TEXT, PRIMARY KEY(patient, day));"
done
sqlite3 office.db "INSERT INTO patients VALUES('p1', 'Amina Diallo', 'Kita', NULL), ('p2', 'Jonas Berg', 'Moss', '555-0102');"
printf '  $ sqlite3 office.db "INSERT INTO patients VALUES(...)"   (2 patients)\n'
for device in office laptop tablet; do
  run ferry init "$device.db" --name "$device"
  run ferry track "$device.db" patients visits
done

# One pass of the stick: each device, in turn, runs `ferry sync` on it.
pass_stick() {
  for device in "$@"; do run ferry sync "$device.db" usb; done
}

say "2. The stick goes round: each device runs one command on it, ferry sync."
say "   A device's first run introduces it; from the next, each finds what is for it and leaves what the others lack."
pass_stick office laptop tablet office laptop tablet
run ls usb

say "3. Offline, both edit. The laptop and the tablet both change Amina's village: a conflict in the making."
printf '  $ sqlite3 laptop.db "UPDATE patients SET village=%s WHERE id=%s; INSERT INTO visits ..."\n' "'Bamako'" "'p1'"
sqlite3 laptop.db "UPDATE patients SET village='Bamako' WHERE id='p1';
                   INSERT INTO visits VALUES('p1', '2026-11-20', 'fever, treated');"
printf '  $ sqlite3 tablet.db "UPDATE patients SET village=%s, phone=%s WHERE id=%s; ..."\n' "'Kati'" "'555-0199'" "'p1'"
sqlite3 tablet.db "UPDATE patients SET village='Kati', phone='555-0199' WHERE id='p1';
                   INSERT INTO patients VALUES('p3', 'Li Wei', 'Kati', NULL);"

say "4. The laptop and the tablet sync on the stick. Someone copies one of the laptop's bundles to the stick a second"
say "   time, under another name: the office imports it once (ferry knows a bundle by its id and content)."
pass_stick laptop tablet
first=$(cd usb && ls to-office-*.ferry | head -1)
run cp "usb/$first" "usb/copy of $first"
pass_stick office

say "5. The office sees the conflict: both devices changed Amina's village, neither knew of the other."
run ferry conflicts office.db
id=$(ferry conflicts office.db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
say "   The office phones the clinic: Kati is right. It settles the conflict; the resolution is an operation too."
run ferry resolve office.db "$id" --value "'Kati'"

say "6. The stick goes round until everyone has everything. The laptop never meets the tablet's owner: the"
say "   tablet's changes reach it in bundles the office writes, still signed by the tablet. Files no device"
say "   needs any more are deleted by the devices that know it; the rest wait for their readers."
pass_stick laptop tablet office laptop tablet
run ls usb

say "7. The office registers 400 patients, and sends them to the tablet by mail, whose attachments may not"
say "   pass 60 KB: --max-size cuts each bundle into parts, each importable on its own and in any order."
sqlite3 office.db "WITH RECURSIVE n(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM n WHERE i < 403)
                   INSERT INTO patients SELECT 'p' || i, 'patient ' || i, 'Kita', hex(randomblob(64)) FROM n;"
printf '  $ sqlite3 office.db "INSERT INTO patients ..."   (400 patients)\n'
mkdir mail
run ferry sync office.db mail --max-size 60K
run ls mail
run ferry sync tablet.db mail --max-size 60K
say "   The laptop gets them on the stick."
pass_stick office laptop
say "8. Every device holds the same data, and every log verifies."
for device in office laptop tablet; do
  run ferry verify "$device.db"
done
for device in office laptop tablet; do
  digest=$(sqlite3 "$device.db" "SELECT quote(id), quote(name), quote(village), quote(phone) FROM patients ORDER BY id;
                                 SELECT quote(patient), quote(day), quote(note) FROM visits ORDER BY 1, 2;" | sha256sum | cut -c1-16)
  printf '  %-7s tables digest %s   open conflicts: %s\n' "$device" "$digest" \
    "$(ferry status "$device.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["conflicts_open"])')"
  echo "$digest" >> digests
done
run sqlite3 -header -column laptop.db "SELECT * FROM patients ORDER BY id"
run ferry network office.db laptop.db tablet.db
say "   Who changed Amina's record, and what was it before? Every device tells the same story."
run ferry history laptop.db patients "'p1'"

say "9. The office now accepts only devices it knows. A stranger's bundle on the stick is refused, and left there."
run ferry trust office.db policy strict
run ferry trust office.db list
sqlite3 stranger.db "CREATE TABLE patients(id TEXT PRIMARY KEY, name TEXT NOT NULL, village TEXT, phone TEXT);
                     CREATE TABLE visits(patient TEXT, day TEXT, note TEXT, PRIMARY KEY(patient, day));"
ferry init stranger.db --name stranger >/dev/null && ferry track stranger.db patients visits >/dev/null
sqlite3 stranger.db "INSERT INTO patients VALUES('p1', 'Amina Diallo', 'Nowhere', NULL)"
run ferry export stranger.db --all -o usb/stranger.ferry
printf '  $ ferry sync office.db usb\n'
if ferry sync office.db usb 2>&1 | sed 's/^/    /'; [[ ${PIPESTATUS[0]} -ne 6 ]]; then
  say "The stranger's bundle was not refused: this is a bug, please report it." >&2
  exit 1
fi
if [[ $(sort -u digests | wc -l) -eq 1 ]]; then
  say "All three databases are identical. The files are in $work."
else
  say "The databases differ: this is a bug, please report it." >&2
  exit 1
fi
