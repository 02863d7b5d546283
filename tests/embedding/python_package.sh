#!/usr/bin/env bash
# The Python package (bindings/python) as a Python developer installs it:
#   python_package.sh PYTHON EXTENSION SOURCE_DIR
# `pip install --no-index` in a fresh virtual environment (no network), with
# the extension just built; then its README's example, run as written, and
# what ferry.load() promises besides.
set -euo pipefail
python=$1 extension=$2 source_dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$python" -m venv venv
FERRY_EXTENSION=$extension venv/bin/python -m pip install -q --no-index "$source_dir/bindings/python"
"$python" - "$source_dir/bindings/python/README.md" > example.py <<'PY'
import sys
text = open(sys.argv[1]).read()
start = text.index("```python\n") + len("```python\n")
print(text[start:text.index("```", start)], end="")
PY
out=$(venv/bin/python example.py)
[[ $out == "1 applied; oil changed" ]] || { echo "python package: the README example printed '$out'" >&2; exit 1; }
version=$(sed -n 's/^project(ferry VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
venv/bin/python - "$version" <<'PY'
import sqlite3, sys
import ferry
assert ferry.__version__ == sys.argv[1], ferry.__version__
assert ferry.BUNDLE_FORMAT == 4, ferry.BUNDLE_FORMAT
conn = ferry.load(sqlite3.connect(":memory:"))
assert conn.execute("SELECT ferry_version()").fetchone()[0] == ferry.__version__
try:  # Loading was switched on for ferry only.
    conn.execute("SELECT load_extension('anything')")
    raise SystemExit("load_extension() still works after ferry.load()")
except sqlite3.OperationalError as e:
    assert "not authorized" in str(e), e
print("python package: ferry", ferry.__version__, "writes bundle format", ferry.BUNDLE_FORMAT)
PY
venv/bin/python -m pip uninstall -q -y ferry
! venv/bin/python -c "import ferry" 2>/dev/null || { echo "python package: still importable after uninstall" >&2; exit 1; }
