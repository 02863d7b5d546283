#!/usr/bin/env bash
# Runs the Embedding section's examples exactly as the README shows them (with
# the installed extension path replaced by the one just built): the C program
# (compiled by CMake from the README), the Python script and the shell lines.
#   readme_examples.sh README FERRY EXTENSION PYTHON C_EXAMPLE
set -euo pipefail
readme=$1 ferry=$2 extension=$3 python=$4 c_example=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
block() {  # The first ```$1 block after the "## Embedding" heading.
  "$python" - "$readme" "$1" <<'PY'
import sys
text = open(sys.argv[1]).read()
start = text.index("```" + sys.argv[2] + "\n", text.index("## Embedding")) + len(sys.argv[2]) + 4
print(text[start:text.index("```", start)], end="")
PY
}
installed=/usr/local/lib/ferry/ferry

mkdir "$work/c" && cd "$work/c"
for name in laptop office; do
  sqlite3 "$name.db" "CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT, body TEXT)"
  "$ferry" init "$name.db" --name "$name" >/dev/null && "$ferry" track "$name.db" notes >/dev/null
done
sqlite3 laptop.db "INSERT INTO notes VALUES(1, 'pump', 'check the valve')"
"$c_example" | tee out
grep -q "applied 1, duplicates 0" out

mkdir "$work/python" && cd "$work/python"
block python | sed "s|$installed|$extension|" > example.py
grep -q "$extension" example.py
"$python" example.py | tee out
grep -q "1 applied; oil changed" out

mkdir "$work/shell" && cd "$work/shell"
block sh | sed "s|$installed|$extension|" > example.sh
grep -q "$extension" example.sh
bash example.sh
"$ferry" verify clinic.ferry
