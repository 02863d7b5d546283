#!/usr/bin/env bash
# The npm package (bindings/node) as a Node developer installs it:
#   npm_package.sh NODE_MODULES SOURCE_DIR
# NODE_MODULES holds better-sqlite3@12 and typescript (tools/setup_node.sh).
# 1. pack.sh makes the package (`npm pack`); npm installs it into a new app,
#    which builds the extension from the package's own sources;
# 2. its README's example runs as written;
# 3. its TypeScript types accept a better-sqlite3-like connection and refuse
#    what is not one.
# Exits 77 (skipped) where NODE_MODULES lacks better-sqlite3 (no Node 20 here).
set -euo pipefail
modules=$1 source_dir=$2
[[ -n $modules && -d $modules/better-sqlite3 && -x $modules/.bin/tsc ]] ||
  { echo "skipped: no better-sqlite3 and typescript in $modules (tools/setup_node.sh installs them with Node.js 20+)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(bash "$source_dir/bindings/node/pack.sh" "$work/pack")
[[ -f $tarball ]] || { echo "npm package: pack.sh made no tarball ($tarball)" >&2; exit 1; }
listing=$(tar -tzf "$tarball")
for file in package/ferry/src/CMakeLists.txt package/ferry/include/ferry/ferry.h package/ferry/bundle_format/schema4.sql \
            package/index.d.ts package/LICENSE; do
  grep -qx "$file" <<<"$listing" || { echo "npm package: the tarball lacks $file" >&2; exit 1; }
done
mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
# Unoptimized: the same sources and steps, in half the time CI would spend on -O2.
FERRY_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0" \
  npm install --no-audit --no-fund --loglevel=error "$tarball" >install.log 2>&1 || { cat install.log >&2; exit 1; }
[[ -f node_modules/ferry-sqlite/lib/ferry.so ]] || { echo "npm package: the install built no extension" >&2; exit 1; }
export NODE_PATH=$modules  # better-sqlite3, installed once for every run (tools/setup_node.sh).
node - "$source_dir/bindings/node/README.md" > example.js <<'JS'
const text = require('fs').readFileSync(process.argv[2], 'utf8');
const start = text.indexOf('```js\n') + 6;
process.stdout.write(text.slice(start, text.indexOf('```', start)));
JS
out=$(node example.js)
[[ $out == "1 applied; oil changed" ]] || { echo "npm package: the README example printed '$out'" >&2; exit 1; }
node -e "
const ferry = require('ferry-sqlite');
const v = require('ferry-sqlite/package.json').version;
if (ferry.bundleFormat !== 4 || !v.startsWith(ferry.bundleFormat + '.')) throw new Error('version ' + v + ' is not tied to format ' + ferry.bundleFormat);
const Database = require('better-sqlite3');
const db = ferry.load(new Database(':memory:'));
if (db.prepare('SELECT ferry_version()').pluck().get() !== ferry.version) throw new Error('the extension is not ferry ' + ferry.version);
try { ferry.load({}); throw new Error('load({}) was accepted'); } catch (e) { if (!(e instanceof TypeError)) throw e; }
"
cat > typed.ts <<'TS'
import { load, bundleFormat, extension, version, LoadsExtensions } from 'ferry-sqlite';
class Db implements LoadsExtensions { loadExtension(path: string): this { return this; } prepare(sql: string) { return sql; } }
const db: Db = load(new Db());  // The connection's own type comes back.
const format: number = bundleFormat;
const where: string = extension + version + db.prepare('SELECT 1') + format;
TS
"$modules/.bin/tsc" --strict --noEmit typed.ts
echo "import { load as l } from 'ferry-sqlite'; l(42);" > wrong.ts
if "$modules/.bin/tsc" --strict --noEmit wrong.ts >/dev/null 2>&1; then
  echo "npm package: its types accept load(42)" >&2; exit 1
fi
echo "npm package: $(basename "$tarball") built at install, its example and types work"
