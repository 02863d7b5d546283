#!/usr/bin/env bash
# The same two-device scenario through each doorway -- the ferry tool, the C++
# API, the C API, the SQLite extension from Python and from the sqlite3 shell
# -- must leave identical application tables (every value with its type).
#   doorways.sh FERRY DOORWAY_CPP CAPI_TEST EXTENSION PYTHON [all|no-extension]
# no-extension leaves out the doorways that load the extension into python3 and
# the sqlite3 shell (a sanitized build's extension cannot load there).
set -euo pipefail
ferry=$1 doorway_cpp=$2 capi=$3 extension=$4 python=$5 which=${6:-all}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
schema="CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, photo BLOB)"

dump() {
  sqlite3 "$1" "SELECT id, typeof(name)||':'||hex(name), typeof(price)||':'||hex(price),
                typeof(photo)||':'||hex(photo) FROM items ORDER BY id"
}

cli() {
  local d=$1
  for n in a b; do
    sqlite3 "$d/$n.db" "$schema"
    "$ferry" init "$d/$n.db" --name "$n" >/dev/null
    "$ferry" track "$d/$n.db" items >/dev/null
  done
  sqlite3 "$d/a.db" "INSERT INTO items VALUES(1, 'bolt', 0.1, x'00ff'), (2, 'nut', NULL, NULL)"
  sqlite3 "$d/b.db" "INSERT INTO items VALUES(3, 'washer', 2.5, x'')"
  "$ferry" export "$d/a.db" --all -o "$d/a1.ferry" >/dev/null && "$ferry" import "$d/b.db" "$d/a1.ferry" >/dev/null
  "$ferry" export "$d/b.db" --all -o "$d/b1.ferry" >/dev/null && "$ferry" import "$d/a.db" "$d/b1.ferry" >/dev/null
  sqlite3 "$d/b.db" "UPDATE items SET price = 0.2 WHERE id = 1"
  "$ferry" export "$d/b.db" --all -o "$d/b2.ferry" >/dev/null && "$ferry" import "$d/a.db" "$d/b2.ferry" >/dev/null
}

shell() {
  local d=$1
  for n in a b; do
    sqlite3 "$d/$n.db" "$schema" ".load $extension" "SELECT ferry_init('$n')" "SELECT ferry_track('items')" >/dev/null
  done
  sqlite3 "$d/a.db" "INSERT INTO items VALUES(1, 'bolt', 0.1, x'00ff'), (2, 'nut', NULL, NULL)"
  sqlite3 "$d/b.db" "INSERT INTO items VALUES(3, 'washer', 2.5, x'')"
  send() { sqlite3 "$d/$1.db" ".load $extension" "SELECT ferry_export(NULL, '$d/$3')" >/dev/null
           sqlite3 "$d/$2.db" ".load $extension" "SELECT ferry_import('$d/$3')" >/dev/null; }
  send a b a1.ferry
  send b a b1.ferry
  sqlite3 "$d/b.db" "UPDATE items SET price = 0.2 WHERE id = 1"
  send b a b2.ferry
}

python_ext() {
  "$python" "$(dirname "$0")/extension_test.py" "$extension" "$1" doorway
}

ways=(cli cpp c python shell)
[[ $which == no-extension ]] && ways=(cli cpp c)
for way in "${ways[@]}"; do
  mkdir "$work/$way"
  case $way in
    cli) cli "$work/$way" ;;
    cpp) "$doorway_cpp" "$work/$way" ;;
    c) "$capi" "$work/$way" doorway ;;
    python) python_ext "$work/$way" ;;
    shell) shell "$work/$way" ;;
  esac
  dump "$work/$way/a.db" > "$work/$way.a"
  dump "$work/$way/b.db" > "$work/$way.b"
  if ! cmp -s "$work/$way.a" "$work/$way.b"; then
    echo "doorways: through $way, the two devices differ" >&2
    diff "$work/$way.a" "$work/$way.b" >&2 || true
    exit 1
  fi
  if [[ $way != cli ]] && ! cmp -s "$work/cli.a" "$work/$way.a"; then
    echo "doorways: $way leaves different tables than the ferry tool" >&2
    diff "$work/cli.a" "$work/$way.a" >&2 || true
    exit 1
  fi
  echo "doorways: $way: $(wc -l < "$work/$way.a") rows, identical"
done

# What the CLI shows and what the extension's SQL functions return, of the same
# database, are the same JSON: trust, peers, the log, a row's history.
if [[ $which == all ]]; then
  db=$work/shell/a.db
  same() {
    local what=$1 sql=$2; shift 2
    "$ferry" "$@" --json > "$work/cli.json"
    sqlite3 "$db" ".load $extension" "$sql" > "$work/sql.json"
    if ! "$python" -c 'import json, sys; a, b = (json.load(open(f)) for f in sys.argv[1:]); sys.exit(a != b)' \
         "$work/cli.json" "$work/sql.json"; then
      echo "doorways: $what: the CLI and $sql differ" >&2
      diff "$work/cli.json" "$work/sql.json" >&2 || true
      exit 1
    fi
  }
  same "trust" "SELECT ferry_trust_list()" trust "$db" list
  same "peers" "SELECT ferry_peers()" peers "$db"
  same "the log" "SELECT ferry_log()" log "$db"
  same "a row's history" "SELECT ferry_history('items', 1)" history "$db" items 1
  [[ $(sqlite3 "$db" ".load $extension" "SELECT ferry_version()") == "$("$ferry" --version | cut -d' ' -f2)" ]] || {
    echo "doorways: ferry_version() is not the tool's version" >&2; exit 1; }
  echo "doorways: trust, peers, log and history: the same JSON from the CLI and from SQL"
fi
