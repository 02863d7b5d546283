// The table of SQLite routines (sql/sqlite.h) for the library and the tool:
// the SQLite they link. Constant-initialized, so it is filled before any code
// runs. Every routine src/sql/ calls must be here; a call through an empty
// slot would crash, and the whole test suite runs through this table.
#define SQLITE_CORE 1  // sqlite3ext.h: the table's type, without redirecting calls through it.
#include <sqlite3ext.h>

namespace {

constexpr sqlite3_api_routines linked() {
  sqlite3_api_routines r{};
  r.bind_blob64 = sqlite3_bind_blob64;
  r.bind_double = sqlite3_bind_double;
  r.bind_int64 = sqlite3_bind_int64;
  r.bind_null = sqlite3_bind_null;
  r.bind_text64 = sqlite3_bind_text64;
  r.busy_timeout = sqlite3_busy_timeout;
  r.changes64 = sqlite3_changes64;
  r.close_v2 = sqlite3_close_v2;
  r.column_blob = sqlite3_column_blob;
  r.column_bytes = sqlite3_column_bytes;
  r.column_count = sqlite3_column_count;
  r.column_double = sqlite3_column_double;
  r.column_int64 = sqlite3_column_int64;
  r.column_name = sqlite3_column_name;
  r.column_text = sqlite3_column_text;
  r.column_type = sqlite3_column_type;
  r.db_config = sqlite3_db_config;
  r.db_filename = sqlite3_db_filename;
  r.db_readonly = sqlite3_db_readonly;
  r.errmsg = sqlite3_errmsg;
  r.errstr = sqlite3_errstr;
  r.exec = sqlite3_exec;
  r.extended_errcode = sqlite3_extended_errcode;
  r.extended_result_codes = sqlite3_extended_result_codes;
  r.finalize = sqlite3_finalize;
  r.free = sqlite3_free;
  r.get_autocommit = sqlite3_get_autocommit;
  r.last_insert_rowid = sqlite3_last_insert_rowid;
  r.limit = sqlite3_limit;
  r.mprintf = sqlite3_mprintf;
  r.open_v2 = sqlite3_open_v2;
  r.prepare_v2 = sqlite3_prepare_v2;
  r.prepare_v3 = sqlite3_prepare_v3;
  r.reset = sqlite3_reset;
  r.sql = sqlite3_sql;
  r.step = sqlite3_step;
  return r;
}

constexpr sqlite3_api_routines kLinked = linked();

}  // namespace

const sqlite3_api_routines* ferry_sqlite3_api = &kLinked;
