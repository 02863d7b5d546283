#!/usr/bin/env bash
# The extension from the sqlite3 shell, as an app works (issue 28): two devices,
# five rounds of 200 rows written in a transaction and exchanged both ways, every
# row arriving; then an import inside the shell's own transaction, rolled back
# (nothing stays) and committed (everything does), and an export there refused
# at once.
#   shell_rounds.sh EXTENSION
set -euo pipefail
extension=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q() { local db=$1; shift; sqlite3 -bail "$work/$db.db" ".load $extension" "$@"; }
fail() { echo "shell_rounds: $*" >&2; exit 1; }

for n in north south; do
  sqlite3 "$work/$n.db" "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)"
  q "$n" "SELECT ferry_init('$n')" "SELECT ferry_track('items')" >/dev/null
done
for round in 0 1 2 3 4; do
  for side in "north 1000" "south 100000"; do
    set -- $side
    q "$1" "BEGIN" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
                    INSERT INTO items SELECT $2 + $round * 1000 + i, 'round $round', i FROM n" "COMMIT"
  done
  q north "SELECT ferry_export(NULL, '$work/n$round.ferry')" >/dev/null
  q south "SELECT ferry_import('$work/n$round.ferry')" >/dev/null
  q south "SELECT ferry_export(NULL, '$work/s$round.ferry')" >/dev/null
  q north "SELECT ferry_import('$work/s$round.ferry')" >/dev/null
  want=$(( (round + 1) * 400 ))
  for n in north south; do
    got=$(sqlite3 "$work/$n.db" "SELECT count(*) FROM items")
    [[ $got == "$want" ]] || fail "round $round: $n holds $got rows, expected $want"
  done
done
[[ $(sqlite3 "$work/north.db" "SELECT * FROM items ORDER BY id" | md5sum) == \
   $(sqlite3 "$work/south.db" "SELECT * FROM items ORDER BY id" | md5sum) ]] || fail "north and south differ"

sqlite3 "$work/late.db" "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)"
q late "SELECT ferry_init('late')" "SELECT ferry_track('items')" >/dev/null
q late "BEGIN" "SELECT ferry_import('$work/s4.ferry')" "ROLLBACK" >/dev/null
[[ $(sqlite3 "$work/late.db" "SELECT count(*) FROM items") == 0 ]] || fail "a rolled-back import left rows"
q late "BEGIN" "SELECT ferry_import('$work/s4.ferry')" "COMMIT" >/dev/null
[[ $(sqlite3 "$work/late.db" "SELECT count(*) FROM items") == 2000 ]] || fail "a committed import is not all there"
if out=$(q late "BEGIN" "SELECT ferry_export(NULL, '$work/late.ferry')" 2>&1); then fail "an export ran inside a transaction"; fi
[[ $out == *"Commit (or roll back) first"* ]] || fail "an export inside a transaction said: $out"
[[ ! -e $work/late.ferry ]] || fail "an export refused inside a transaction left a file"
echo "shell_rounds: all checks passed"
