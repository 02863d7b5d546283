'use strict';
// ferry for Node: require('ferry-sqlite').load(db) loads ferry's SQLite
// extension, built from this package's sources when it was installed
// (build.js), into a better-sqlite3 connection. ferry's verbs become SQL
// functions: ferry_init, ferry_track, ferry_export, ferry_import, ...
const fs = require('fs');
const path = require('path');
const manifest = require('./package.json');

// The extension as SQLite's loadExtension() takes it: SQLite adds the suffix.
const extension = path.join(__dirname, 'lib', 'ferry');

function load(db) {
  if (!db || typeof db.loadExtension !== 'function')
    throw new TypeError('ferry-sqlite: load(db) takes a better-sqlite3 Database (or anything with loadExtension(path))');
  if (!fs.existsSync(extension + '.so'))
    throw new Error('ferry-sqlite: ' + extension + '.so is missing: the package was installed without running its ' +
                    'install script (npm --ignore-scripts?); run `npm rebuild ferry-sqlite`');
  db.loadExtension(extension);
  return db;
}

module.exports = {
  load,
  extension,
  version: manifest.ferry.version,
  bundleFormat: manifest.ferry.bundleFormat,
};
