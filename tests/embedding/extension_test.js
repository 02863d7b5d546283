// The loadable SQLite extension from Node's better-sqlite3 (version 12): two
// devices sync through a bundle. Exits 77 (skipped) when node cannot load
// better-sqlite3 (install it with `npm install better-sqlite3@12` and point
// NODE_PATH at its node_modules).
//   node extension_test.js EXTENSION DIR
const path = require('path');
let Database;
try {
  Database = require('better-sqlite3');
} catch (e) {
  console.log('skipped: better-sqlite3 is not installed for this node (' + e.code + ')');
  process.exit(77);
}
const [extension, dir] = process.argv.slice(2);
const device = (name) => {
  const db = new Database(path.join(dir, name + '.db'));
  db.loadExtension(extension);
  db.exec('CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL)');
  db.prepare('SELECT ferry_init(?)').pluck().get(name);
  db.prepare("SELECT ferry_track('items')").pluck().get();
  return db;
};
const a = device('a'), b = device('b');
a.exec("INSERT INTO items VALUES(1, 'bolt', 0.1), (2, 'nut', NULL)");
const file = path.join(dir, 'a.ferry');
const exported = JSON.parse(a.prepare('SELECT ferry_export(NULL, ?)').pluck().get(file));
const imported = JSON.parse(b.prepare('SELECT ferry_import(?)').pluck().get(file));
const rows = (db) => JSON.stringify(db.prepare('SELECT * FROM items ORDER BY id').all());
let failed = exported.operations !== 2 || imported.applied !== 2 || rows(a) !== rows(b);
try {
  b.prepare("SELECT ferry_import('/no/such.ferry')").get();
  failed = true;
} catch (e) {
  failed = failed || !String(e.message).includes('/no/such.ferry: no such file');
}
// Many rounds, as an app works: each device writes 200 rows in a transaction of
// its own, then the two exchange bundles both ways. better-sqlite3 carries its
// own SQLite; ferry must run on it, or the two copies' locks do not meet and
// the app's view of its database breaks (issue 28).
const exchange = (from, to, name) => {
  const bundle = path.join(dir, name + '.ferry');
  from.prepare('SELECT ferry_export(NULL, ?)').pluck().get(bundle);
  to.prepare('SELECT ferry_import(?)').pluck().get(bundle);
};
const count = (db) => db.prepare('SELECT count(*) FROM items').pluck().get();
for (let round = 0; round < 5 && !failed; round++) {
  [[a, 1000], [b, 100000]].forEach(([db, base]) => {
    const insert = db.prepare('INSERT INTO items VALUES(?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 200; i++) insert.run(base + round * 1000 + i, 'round ' + round, i);
    })();
  });
  try {
    exchange(a, b, 'a' + round);
    exchange(b, a, 'b' + round);
  } catch (e) {
    console.log('round ' + round + ': ' + e.message);
    failed = true;
    break;
  }
  const want = 2 + (round + 1) * 400;
  if (count(a) !== want || count(b) !== want || rows(a) !== rows(b)) {
    console.log('round ' + round + ': a holds ' + count(a) + ' rows, b ' + count(b) + ', expected ' + want + ' on both');
    failed = true;
  }
}
// Inside the app's own transaction: an import commits with it, or rolls back with it.
if (!failed) {
  const c = device('c');
  const everything = path.join(dir, 'everything.ferry');
  a.prepare('SELECT ferry_export(NULL, ?)').pluck().get(everything);
  const importing = () => c.prepare('SELECT ferry_import(?)').pluck().get(everything);
  try {
    c.transaction(() => {
      importing();
      throw new Error('rolled back on purpose');
    })();
  } catch (e) {
    if (e.message !== 'rolled back on purpose') {
      console.log('import inside a transaction: ' + e.message);
      failed = true;
    }
  }
  if (count(c) !== 0) {
    console.log('a rolled-back import left ' + count(c) + ' rows');
    failed = true;
  }
  c.transaction(importing)();
  if (rows(c) !== rows(a)) {
    console.log('a committed import left c with other rows than a');
    failed = true;
  }
}
console.log(failed ? 'extension from node: FAILED' : 'extension from node: all checks passed');
process.exit(failed ? 1 : 0);
