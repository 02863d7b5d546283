#include "sql/database.h"

#include "sql/sqlite.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

namespace ferry::sql {
namespace {

struct FreeText {
  void operator()(char* p) const noexcept { sqlite3_free(p); }
};

// How long a writer waits for another connection's lock before giving up:
// 10 s, or FERRY_BUSY_TIMEOUT_MS when that is a whole number of milliseconds
// (anything else is ignored rather than read as "do not wait").
int busy_timeout_ms() {
  constexpr int kDefault = 10000;
  const char* v = std::getenv("FERRY_BUSY_TIMEOUT_MS");
  if (v == nullptr || *v == '\0') return kDefault;
  char* end = nullptr;
  const long ms = std::strtol(v, &end, 10);
  return *end == '\0' && ms >= 0 && ms <= 24L * 3600 * 1000 ? static_cast<int>(ms) : kDefault;
}

Errc errc_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Errc::corrupt;
    default:
      return Errc::database;
  }
}

bool is_row_constraint(int extended) {
  switch (extended) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return true;
    default:
      return false;
  }
}

std::string hint_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return " (another program holds the database; try again when it is done)";
    case SQLITE_READONLY:
      return " (the database or its folder is read-only)";
    case SQLITE_FULL:
      return " (the disk is full)";
    case SQLITE_CANTOPEN:
      return " (check the path and its permissions)";
    default:
      return "";
  }
}

}  // namespace

void CloseConnection::operator()(sqlite3* db) const noexcept {
  if (owned) sqlite3_close_v2(db);
}
void FinalizeStatement::operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }

std::string main_file(sqlite3* connection) {
  const char* file = sqlite3_db_filename(connection, "main");
  return file == nullptr ? std::string() : std::string(file);
}

Database::Database(const std::string& path, Mode mode) : path_(path) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  std::string target = path;
  if (mode == Mode::untrusted_read) {
    // Immutable and read-only: no locks, no journal, no -wal next to the copy.
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    std::unique_ptr<char, FreeText> uri(sqlite3_mprintf("file:%s?immutable=1", path.c_str()));
    if (!uri) throw Error(Errc::internal, "out of memory");
    target = uri.get();  // Should this copy run out of memory, `uri` is freed all the same.
    // sqlite3_mprintf does not escape '?' or '#'; the reader only passes paths it created.
  } else if (mode == Mode::read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | (mode == Mode::create ? SQLITE_OPEN_CREATE : 0);
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // Owned before the check: the handle carries the message.
  if (rc == SQLITE_OK && mode == Mode::read_only && !readable()) {
    // A WAL database whose -shm cannot be made here. Immutable is exact only if no -wal holds changes.
    struct stat wal;
    if (::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0)
      throw Error(Errc::database, path + ": is read-only here and has changes in its write-ahead log (" + path +
                                      "-wal) that only a writable copy can read; copy both files somewhere writable");
    std::unique_ptr<char, FreeText> uri(sqlite3_mprintf("file:%s?immutable=1", path.c_str()));
    if (!uri) throw Error(Errc::internal, "out of memory");
    raw = nullptr;
    rc = sqlite3_open_v2(uri.get(), &raw, flags | SQLITE_OPEN_URI, nullptr);
    db_.reset(raw);
  }
  if (rc != SQLITE_OK) {
    const std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    throw Error(rc == SQLITE_CANTOPEN ? Errc::not_found : errc_for(rc),
                path + ": cannot open: " + msg + hint_for(rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms());
}

Database::Database(sqlite3* borrowed) : db_(borrowed, CloseConnection{false}), path_(main_file(borrowed)) {
  if (path_.empty())
    throw Error(Errc::invalid_argument,
                "ferry needs a database file; this connection's main database is in memory or temporary");
}

bool Database::readable() {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db_.get(), "SELECT count(*) FROM sqlite_schema", -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, FinalizeStatement> st(raw);
  return rc == SQLITE_OK && sqlite3_step(raw) == SQLITE_ROW;
}

bool Database::read_only() const { return sqlite3_db_readonly(db_.get(), "main") == 1; }

void Database::check(int rc, std::string_view what) const {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  const std::string said = sqlite3_errmsg(db_.get());
  std::string msg = path_ + ": " + std::string(what) + ": " + said + hint_for(rc);
  const int extended = sqlite3_extended_errcode(db_.get());
  if (is_row_constraint(extended)) throw ConstraintFailed(msg, extended, said);
  throw Error(errc_for(rc), msg);
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err);
  std::unique_ptr<char, FreeText> owned(err);
  if (rc != SQLITE_OK) {
    std::string msg = path_ + ": " + (err ? err : sqlite3_errstr(rc)) + hint_for(rc);
    throw Error(errc_for(rc), msg + " (in: " + sql.substr(0, 200) + ")");
  }
}

Statement Database::prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  Statement owned(*this, stmt);
  check(rc, "cannot prepare \"" + std::string(sql.substr(0, 200)) + "\"");
  return owned;
}

std::int64_t Database::changes() const { return sqlite3_changes64(db_.get()); }
std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

Statement& Statement::bind(int index, std::int64_t v) {
  db_->check(sqlite3_bind_int64(stmt_.get(), index, v), "bind");
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  db_->check(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8),
             "bind");
  return *this;
}
Statement& Statement::bind_blob(int index, const void* data, std::size_t size) {
  static const char kEmpty = 0;  // A zero-length BLOB must not bind as NULL.
  db_->check(sqlite3_bind_blob64(stmt_.get(), index, size ? data : &kEmpty, size, SQLITE_TRANSIENT),
             "bind");
  return *this;
}
Statement& Statement::bind_blob_view(int index, const void* data, std::size_t size) {
  static const char kEmpty = 0;
  db_->check(sqlite3_bind_blob64(stmt_.get(), index, size ? data : &kEmpty, size, SQLITE_STATIC), "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  db_->check(sqlite3_bind_null(stmt_.get(), index), "bind");
  return *this;
}
Statement& Statement::bind_view(int index, const Value& v) {
  if (v.type() == Value::Type::text) {
    db_->check(sqlite3_bind_text64(stmt_.get(), index, v.as_text().data(), v.as_text().size(), SQLITE_STATIC, SQLITE_UTF8),
               "bind");
    return *this;
  }
  if (v.type() == Value::Type::blob) return bind_blob_view(index, v.as_blob().data(), v.as_blob().size());
  return bind(index, v);
}

Statement& Statement::bind(int index, const Value& v) {
  switch (v.type()) {
    case Value::Type::null: return bind_null(index);
    case Value::Type::integer: return bind(index, v.as_integer());
    case Value::Type::real:
      db_->check(sqlite3_bind_double(stmt_.get(), index, v.as_real()), "bind");
      return *this;
    case Value::Type::text: return bind(index, std::string_view(v.as_text()));
    case Value::Type::blob: return bind_blob(index, v.as_blob().data(), v.as_blob().size());
  }
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_.get());
  db_->check(rc, "\"" + std::string(sql ? sql : "").substr(0, 200) + "\" failed");
  return false;
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  // Bindings are kept: every caller binds all parameters before the next step.
  sqlite3_reset(stmt_.get());
}

int Statement::column_count() const { return sqlite3_column_count(stmt_.get()); }
std::string Statement::column_name(int col) const {
  const char* n = sqlite3_column_name(stmt_.get(), col);
  return n ? n : "";
}
int Statement::column_type(int col) const { return sqlite3_column_type(stmt_.get(), col); }
bool Statement::is_null(int col) const { return column_type(col) == SQLITE_NULL; }
std::int64_t Statement::integer(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_.get(), col); }

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), col));
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

Bytes Statement::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_.get(), col));
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p ? Bytes(p, p + n) : Bytes();
}

std::string_view Statement::blob_view(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), col));
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
}

Value Statement::value(int col) const {
  switch (column_type(col)) {
    case SQLITE_INTEGER: return Value::integer(integer(col));
    case SQLITE_FLOAT: return Value::real(real(col));
    case SQLITE_TEXT: return Value::text(text(col));
    case SQLITE_BLOB: return Value::blob(blob(col));
    default: return Value();
  }
}

Transaction::Transaction(Database& db) : db_(db) {
  if (db_.read_only())
    throw Error(Errc::database, db_.path() + ": is read-only (a read-only mount, or no write permission on the file or "
                                             "its folder): ferry can show and verify it, but not change it; copy it "
                                             "somewhere writable, with its key file");
  if (db_.transaction_held_)
    throw Error(Errc::internal, db_.path() + ": a transaction was begun inside another on the same connection");
  savepoint_ = db_.borrowed() && db_.in_transaction();  // The caller's transaction, not one left open.
  if (!savepoint_ && db_.in_transaction()) db_.exec("ROLLBACK");  // Left open by a rollback that failed.
  rollback_.emplace(db_.prepare(savepoint_ ? "ROLLBACK TO ferry_work" : "ROLLBACK"));
  db_.exec(savepoint_ ? "SAVEPOINT ferry_work" : "BEGIN IMMEDIATE");
  db_.transaction_held_ = true;
}

Transaction::~Transaction() {
  if (done_) return;
  db_.transaction_held_ = false;
  try {  // Never throws. A failed ROLLBACK leaves the next Transaction, or closing, to roll back.
    rollback_->step();
    if (savepoint_) db_.exec("RELEASE ferry_work");  // Rolled back to it: releasing it keeps nothing.
  } catch (...) {
  }
}

void Transaction::commit() {
  db_.exec(savepoint_ ? "RELEASE ferry_work" : "COMMIT");
  done_ = true;
  db_.transaction_held_ = false;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace ferry::sql

namespace ferry::sql {

void harden_for_untrusted(Database& db, int max_length) {
  struct Setting {
    int op;
    int value;
    const char* name;
  };
  const Setting settings[] = {
      {SQLITE_DBCONFIG_DEFENSIVE, 1, "defensive"},
      {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "trusted_schema"},
      {SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, "enable_trigger"},
      {SQLITE_DBCONFIG_ENABLE_VIEW, 0, "enable_view"},
      {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, "enable_load_extension"},
      {SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, "enable_fts3_tokenizer"},
      {SQLITE_DBCONFIG_WRITABLE_SCHEMA, 0, "writable_schema"},
      {SQLITE_DBCONFIG_DQS_DDL, 0, "dqs_ddl"},
      {SQLITE_DBCONFIG_DQS_DML, 0, "dqs_dml"},
  };
  for (const auto& s : settings) {
    int now = -1;
    const int rc = sqlite3_db_config(db.handle(), s.op, s.value, &now);
    if (rc != SQLITE_OK || now != s.value)
      throw Error(Errc::internal, std::string("cannot harden the connection for an untrusted file (") + s.name + ")");
  }
  const std::pair<int, int> limits[] = {
      {SQLITE_LIMIT_LENGTH, max_length},    {SQLITE_LIMIT_SQL_LENGTH, 100000},
      {SQLITE_LIMIT_COLUMN, 64},            {SQLITE_LIMIT_EXPR_DEPTH, 32},
      {SQLITE_LIMIT_COMPOUND_SELECT, 3},    {SQLITE_LIMIT_VDBE_OP, 25000},
      {SQLITE_LIMIT_FUNCTION_ARG, 8},       {SQLITE_LIMIT_ATTACHED, 0},
      {SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50}, {SQLITE_LIMIT_VARIABLE_NUMBER, 16},
      {SQLITE_LIMIT_TRIGGER_DEPTH, 1},      {SQLITE_LIMIT_WORKER_THREADS, 0},
  };
  for (const auto& [id, value] : limits) sqlite3_limit(db.handle(), id, value);
}

}  // namespace ferry::sql
