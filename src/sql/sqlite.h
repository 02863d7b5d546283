#pragma once
// How ferry calls SQLite: through a table of SQLite's routines, the way a
// loadable extension must (sqlite3ext.h). In the library and the tool the
// table holds the SQLite they link (sql/linked.cc); in the extension it is the
// host's own, handed to the entry point (extension/extension.cc), so that a
// process that loads ferry.so runs one SQLite, whatever copy its driver
// carries: two copies do not share POSIX locks, and one's closing connection
// deletes the -wal and -shm the other still uses.
//
// Include it only in the .cc files of src/sql/ and the extension's entry; the
// linker keeps anything else from calling SQLite (ferry.so links no SQLite and
// is linked with --no-undefined).
#define sqlite3_api ferry_sqlite3_api
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
