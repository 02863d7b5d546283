#!/usr/bin/env bash
# Fails when a folder of src/ includes a folder above it, when code outside
# src/sql/ and the SQLite front ends calls sqlite3_*, or when tools/ferry/
# includes anything but public headers and its own files. The order, bottom
# first, is src/README.md's; a folder may include itself, the public headers
# (ferry/...) and any folder listed before it.
#   tools/check_layers.sh [ROOT]   ROOT: a copy of the repository (default: this one)
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# Bottom first. Folders on one line are one level and may not include each other.
levels=(
  "util"
  "sql"
  "hash"
  "json"
  "replica"
  "log"
  "trust"
  "fleet"
  "bundle"
  "capture"
  "merge"
  "session"
  "fingerprint"
  "history identity"
  "exchange"
  "engine"
  "compare capi extension carrier"
)

declare -A rank
for i in "${!levels[@]}"; do
  for folder in ${levels[$i]}; do rank[$folder]=$i; done
done

failures=0
for dir in src/*/; do
  folder=$(basename "$dir")
  if [[ -z "${rank[$folder]:-}" ]]; then
    echo "src/$folder: not in tools/check_layers.sh's levels (nor src/README.md's); add it where it belongs"
    failures=$((failures + 1))
    continue
  fi
  while IFS=: read -r file line include; do
    [[ $include =~ ^#include\ \"([^/\"]+)/ ]] || continue  # Matched in bash: a sed per line took seconds.
    target=${BASH_REMATCH[1]}
    [[ "$target" == "$folder" || "$target" == "ferry" ]] && continue
    if [[ -z "${rank[$target]:-}" ]]; then
      echo "$file:$line: includes \"$target/...\", which is no folder of src/"
      failures=$((failures + 1))
    elif (( rank[$target] >= rank[$folder] )); then
      echo "$file:$line: src/$folder includes src/$target, which is not below it (src/README.md)"
      failures=$((failures + 1))
    fi
  done < <(grep -Hn '^#include "[^"]*/' "$dir"* 2>/dev/null | sed -E 's/^([^:]+):([0-9]+):(.*)$/\1:\2:\3/' || true)
done

# The public facade is a header every folder may include (its value types),
# but only the folders above engine/ may open an Engine.
while IFS= read -r hit; do
  echo "$hit: opens an Engine below src/engine/ (call the stage it delegates to)"
  failures=$((failures + 1))
done < <(grep -nE '\bEngine::(open|init|on_connection)\b' -r src --include='*.cc' --include='*.h' |
         grep -vE '^src/(engine|compare|capi|extension)/' | grep -vE ':[0-9]+: *//' || true)

# Only src/sql/ and the front ends that are SQLite extensions call SQLite.
while IFS= read -r hit; do
  echo "$hit: calls SQLite outside src/sql/ (use sql::Database and sql::Statement)"
  failures=$((failures + 1))
done < <(grep -nE '\bsqlite3_[a-z0-9_]+ *\(' -r src --include='*.cc' --include='*.h' |
         grep -vE '^src/(sql|capi|extension)/' | grep -vE ':[0-9]+: *//' || true)

# The tool is a client of the public API: ferry/... and its own files only.
while IFS=: read -r file line include; do
  if ! grep -qE '#include "(ferry/[a-z_]+\.h|[a-z_]+\.h)"' <<<"$include"; then
    echo "$file:$line: tools/ferry includes $include; it may include only public headers (ferry/...) and its own files"
    failures=$((failures + 1))
  fi
done < <(grep -Hn '^#include "' tools/ferry/* || true)

if (( failures > 0 )); then
  echo "check_layers: $failures problem(s) with the direction of dependencies"
  exit 1
fi
echo "check_layers: every include points down (${#levels[@]} levels)"
