#!/usr/bin/env bash
# ferry's main job, as a story: three devices that never go online keep one
# SQLite database each and sync through bundle files on a "USB stick" (a
# folder). Sets everything up on a fresh Debian 12 machine, builds ferry, then
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

say "2. The office hands everything to the laptop and the tablet on the USB stick."
run ferry export office.db --all -o usb/office-1.ferry
run ferry import laptop.db usb/office-1.ferry
run ferry import tablet.db usb/office-1.ferry

say "3. Offline, both edit. The laptop and the tablet both change Amina's village: a conflict in the making."
printf '  $ sqlite3 laptop.db "UPDATE patients SET village=%s WHERE id=%s; INSERT INTO visits ..."\n' "'Bamako'" "'p1'"
sqlite3 laptop.db "UPDATE patients SET village='Bamako' WHERE id='p1';
                   INSERT INTO visits VALUES('p1', '2026-11-20', 'fever, treated');"
printf '  $ sqlite3 tablet.db "UPDATE patients SET village=%s, phone=%s WHERE id=%s; ..."\n' "'Kati'" "'555-0199'" "'p1'"
sqlite3 tablet.db "UPDATE patients SET village='Kati', phone='555-0199' WHERE id='p1';
                   INSERT INTO patients VALUES('p3', 'Li Wei', 'Kati', NULL);"

say "4. The laptop writes two bundles for the office on different days; they arrive in the wrong order."
run ferry export laptop.db --peer office -o usb/laptop-1.ferry
# The laptop's clock right after the first bundle: the second holds only what is newer.
since=$(ferry status laptop.db --json | python3 -c 'import json, sys; c = json.load(sys.stdin)["clock"]; print(",".join(k + ":" + str(v) for k, v in c.items()))')
sqlite3 laptop.db "INSERT INTO visits VALUES('p2', '2026-11-21', 'check-up');"
printf '  $ sqlite3 laptop.db "INSERT INTO visits VALUES(%s, %s, %s)"\n' "'p2'" "'2026-11-21'" "'check-up'"
echo "    (--since: only what is newer than the clock the laptop had when it wrote the first bundle)"
run ferry export laptop.db --since "$since" -o usb/laptop-2.ferry
run ferry import office.db usb/laptop-2.ferry
echo "    (the second bundle waits: its first operation continues one the office has not seen)"
run ferry import office.db usb/laptop-1.ferry

say "5. The tablet's bundle reaches the office twice (someone copied it to two sticks)."
run ferry export tablet.db --peer office -o usb/tablet-1.ferry
run ferry import office.db usb/tablet-1.ferry
run ferry import office.db usb/tablet-1.ferry

say "6. The office sees the conflict: both devices changed Amina's village, neither knew of the other."
run ferry conflicts office.db
id=$(ferry conflicts office.db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
say "   The office phones the clinic: Kati is right. It settles the conflict; the resolution is an operation too."
run ferry resolve office.db "$id" --value "'Kati'"

say "7. Bundles go round. The laptop never meets the tablet: the tablet's changes reach it through the office,"
say "   still signed by the tablet. The tablet's bundle goes by email, so it is encrypted: only the tablet can read it."
run ferry export office.db --peer laptop -o usb/office-2.ferry
run ferry export office.db --peer tablet --encrypt-for tablet -o usb/office-3.ferry
run ferry inspect usb/office-3.ferry
run ferry import laptop.db usb/office-2.ferry
run ferry import tablet.db usb/office-3.ferry
run ferry export laptop.db --peer office -o usb/laptop-3.ferry
run ferry import office.db usb/laptop-3.ferry

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

say "9. The office now accepts only devices it knows. A stranger's bundle claiming news is refused, untouched."
run ferry trust office.db policy strict
run ferry trust office.db list
sqlite3 stranger.db "CREATE TABLE patients(id TEXT PRIMARY KEY, name TEXT NOT NULL, village TEXT, phone TEXT);
                     CREATE TABLE visits(patient TEXT, day TEXT, note TEXT, PRIMARY KEY(patient, day));"
ferry init stranger.db --name stranger >/dev/null && ferry track stranger.db patients visits >/dev/null
sqlite3 stranger.db "INSERT INTO patients VALUES('p1', 'Amina Diallo', 'Nowhere', NULL)"
run ferry export stranger.db --all -o usb/stranger.ferry
printf '  $ ferry import office.db usb/stranger.ferry\n'
if ferry import office.db usb/stranger.ferry 2>&1 | sed 's/^/    /'; [[ ${PIPESTATUS[0]} -ne 6 ]]; then
  say "The stranger's bundle was not refused: this is a bug, please report it." >&2
  exit 1
fi
if [[ $(sort -u digests | wc -l) -eq 1 ]]; then
  say "All three databases are identical. The files are in $work."
else
  say "The databases differ: this is a bug, please report it." >&2
  exit 1
fi
