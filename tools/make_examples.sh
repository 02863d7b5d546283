#!/usr/bin/env bash
# Regenerates bundle_format/examples/: small bundles written by this ferry, and
# the rows each produces when imported into an empty database; and the fuzzers'
# seed bundles (tests/fuzz/corpus/bundle/). Bundles of older formats stay as they
# were written (examples/2.0/ and 3.0/, corpus v2-* and v3-*): readers must go on
# accepting them. Run from the repository root after
# building: tools/make_examples.sh [build-dir]
#   tools/make_examples.sh [build-dir] 4.2   writes only examples/4.2/ (a scoped table).
set -euo pipefail
ferry=${1:-build}/tools/ferry
out=bundle_format/examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 4.2 (format4.md §12.6): a table scoped by clinic, rows in three scopes, one
# moved between two and one deleted: chains named by (device, scope).
scoped_example() {
  local dir=$out/4.2 schema="CREATE TABLE visits(id INTEGER PRIMARY KEY, note TEXT, clinic);"
  mkdir -p "$dir"
  sqlite3 "$work/s.db" "$schema"
  "$ferry" init "$work/s.db" --name example-s >/dev/null
  "$ferry" track "$work/s.db" visits --scope clinic >/dev/null
  sqlite3 "$work/s.db" "INSERT INTO visits VALUES(1, 'first', 7), (2, 'second', 8), (3, 'third', 'north');
UPDATE visits SET clinic = 8, note = 'moved' WHERE id = 1;
DELETE FROM visits WHERE id = 3;
INSERT INTO visits VALUES(4, 'fourth', 'north');"
  "$ferry" export "$work/s.db" --all -o "$dir/scoped.ferry" >/dev/null
  sqlite3 "$work/t.db" "$schema"
  "$ferry" init "$work/t.db" >/dev/null
  "$ferry" track "$work/t.db" visits --scope clinic >/dev/null
  "$ferry" import "$work/t.db" "$dir/scoped.ferry" >/dev/null
  sqlite3 "$work/t.db" "SELECT id, typeof(note)||':'||hex(note), typeof(clinic)||':'||hex(clinic) FROM visits ORDER BY id" \
    > "$dir/scoped.expected"
  echo "$schema" > "$dir/schema.sql"
  echo "scope expression of visits: clinic" > "$dir/README"
  cp "$dir/scoped.ferry" tests/fuzz/corpus/bundle/
  echo "wrote $(ls "$dir")"
}
if [ "${2:-}" = 4.2 ]; then
  scoped_example
  exit 0
fi
schema="CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, photo BLOB);
CREATE TABLE tags(item INTEGER, tag TEXT, note TEXT, PRIMARY KEY(item, tag)) WITHOUT ROWID;"
sqlite3 "$work/a.db" "$schema"
"$ferry" init "$work/a.db" --name example-a >/dev/null
"$ferry" track "$work/a.db" items tags >/dev/null
sqlite3 "$work/a.db" "INSERT INTO items VALUES(1, 'bolt', 10, 0.1, x'00ff'), (2, 'héllo ✓', -5, -0.0, x'');
INSERT INTO tags VALUES(1, 'metal', NULL), (2, 'text', 'nul' || char(0) || 'inside');
UPDATE items SET qty = 9223372036854775807, price = 1e308 WHERE id = 1;
DELETE FROM tags WHERE tag = 'metal';"
"$ferry" export "$work/a.db" --all -o "$out/basic.ferry" >/dev/null
id=$("$ferry" status "$work/a.db" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["device"]["id"])')
"$ferry" export "$work/a.db" --since "$id:4" -o "$out/tail.ferry" >/dev/null   # operations 5-6 only: needs 1-4 first
# A new database holding `$1`'s rows, imported from the bundle `$2`.
import_into_new() {
  sqlite3 "$work/$1.db" "$schema"
  "$ferry" init "$work/$1.db" >/dev/null
  "$ferry" track "$work/$1.db" items tags >/dev/null
  "$ferry" import "$work/$1.db" "$2" >/dev/null
}
# Every value as type:hex, so NUL bytes, -0.0 and REAL bits are compared exactly.
rows_of() {
  sqlite3 "$work/$1.db" "SELECT 'items', id, typeof(name)||':'||hex(name), typeof(qty)||':'||hex(qty), typeof(price)||':'||hex(price),
  typeof(photo)||':'||hex(photo) FROM items ORDER BY id;
SELECT 'tags', item, typeof(tag)||':'||hex(tag), typeof(note)||':'||hex(note) FROM tags ORDER BY item, tag;"
}
import_into_new b "$out/basic.ferry"
rows_of b > "$out/basic.expected"
echo "$schema" > "$out/schema.sql"
echo "wrote $(ls -p "$out" | grep -v /)"

seeds=tests/fuzz/corpus/bundle
cp "$out/basic.ferry" "$out/tail.ferry" "$seeds/"
sqlite3 "$work/b.db" "INSERT INTO items VALUES(3, 'relayed', 1, 2.5, NULL); UPDATE tags SET note = 'b' WHERE item = 2;"
"$ferry" export "$work/b.db" --all -o "$seeds/relay-two-devices.ferry" >/dev/null   # a's chain and b's
"$ferry" export "$work/b.db" --snapshot -o "$out/snapshot.ferry" >/dev/null   # with the causal rows of b's chain
cp "$out/snapshot.ferry" "$seeds/snapshot.ferry"
import_into_new c "$out/snapshot.ferry"
rows_of c > "$out/snapshot.expected"
"$ferry" export "$work/b.db" --peer example-a --encrypt-for example-a -o "$seeds/encrypted.ferry" >/dev/null
# 4.1: e holds a's operations 1-6 and says so in a bundle for a; a's next
# bundle for e is written against it: its clock names only a's own entry.
import_into_new e "$out/basic.ferry"
"$ferry" export "$work/e.db" --peer example-a -o "$work/e-for-a.ferry" >/dev/null
"$ferry" import "$work/a.db" "$work/e-for-a.ferry" >/dev/null
sqlite3 "$work/a.db" "UPDATE items SET name = 'addressed' WHERE id = 2;"
e_id=$("$ferry" status "$work/e.db" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["device"]["id"])')
"$ferry" export "$work/a.db" --peer "$e_id" -o "$out/addressed.ferry" >/dev/null   # operation 7 only: needs 1-6 first
cp "$out/addressed.ferry" "$seeds/"
import_into_new f "$out/basic.ferry"
"$ferry" import "$work/f.db" "$out/addressed.ferry" >/dev/null
rows_of f > "$out/addressed.expected"
echo "wrote $(ls "$seeds")"

seeds=tests/fuzz/corpus/fingerprint
mkdir -p "$seeds"
"$ferry" fingerprint "$work/b.db" -o "$seeds/two-devices.json" >/dev/null
op=$("$ferry" log "$work/b.db" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[2]["id"])')
"$ferry" prove "$work/b.db" "$op" -o "$seeds/proof.txt" >/dev/null
echo "wrote $(ls "$seeds")"

scoped_example
