'use strict';
// npm's install step: builds ferry's SQLite extension from the sources this
// package carries (ferry/, copied by pack.sh) with CMake, into lib/ferry.so.
// Needs cmake, a C++17 compiler and the -dev packages ferry builds with; says
// which when one is missing.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const here = __dirname;
const sources = path.join(here, 'ferry');
const build = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-sqlite-build-'));
const debian = 'sudo apt install cmake g++ libsqlite3-dev libssl-dev libzstd-dev libmsgpack-cxx-dev nlohmann-json3-dev';

function run(command, args) {
  const r = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error && r.error.code === 'ENOENT') fail(command + ' is not installed; on Debian or Ubuntu: ' + debian);
  if (r.status !== 0) fail(command + ' ' + args.join(' ') + ' failed (above); on Debian or Ubuntu ferry needs: ' + debian);
}

function fail(message) {
  console.error('ferry-sqlite: cannot build the SQLite extension: ' + message);
  fs.rmSync(build, { recursive: true, force: true });
  process.exit(1);
}

if (!fs.existsSync(path.join(sources, 'CMakeLists.txt')))
  fail(sources + ' holds no ferry sources: install the package made by bindings/node/pack.sh');
// FERRY_CMAKE_ARGS: more CMake arguments, separated by spaces (a compiler launcher, a build type).
const extra = (process.env.FERRY_CMAKE_ARGS || '').split(' ').filter(Boolean);
run('cmake', ['-S', sources, '-B', build, '-DCMAKE_BUILD_TYPE=Release', '-DFERRY_BUILD_TESTS=OFF',
              '-DFERRY_BUILD_TOOLS=OFF', '-DFERRY_BUILD_BENCHMARKS=OFF', ...extra]);
run('cmake', ['--build', build, '--target', 'ferry_sqlite', '-j', String(os.cpus().length || 1)]);
fs.mkdirSync(path.join(here, 'lib'), { recursive: true });
fs.copyFileSync(path.join(build, 'src', 'ferry.so'), path.join(here, 'lib', 'ferry.so'));
fs.rmSync(build, { recursive: true, force: true });
console.log('ferry-sqlite: built ' + path.join(here, 'lib', 'ferry.so'));
