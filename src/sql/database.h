#pragma once
// The SQLite boundary: Database (a connection), Statement (a prepared
// statement with typed binds and reads), Transaction (BEGIN IMMEDIATE ...
// COMMIT, rolled back unless committed). Only src/sql/ and the SQLite
// extension's entry points (src/extension/, src/capi/) call sqlite3_*, through
// sql/sqlite.h: this header names SQLite's types and constants only.
// SQLite failures become ferry::Error: corrupt for SQLITE_CORRUPT/NOTADB,
// database for the rest, with SQLite's message and the statement; a write
// that breaks a constraint of the row is ConstraintFailed, classified by
// SQLite's extended result code.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ferry/error.h"
#include "ferry/value.h"

namespace ferry::sql {

class Statement;

// A write refused by a constraint on the row it writes -- UNIQUE or PRIMARY
// KEY, NOT NULL, CHECK, FOREIGN KEY, or a duplicate rowid -- told apart by
// SQLite's extended result code (SQLITE_CONSTRAINT_*), never by its message.
// A trigger's RAISE and the other constraint codes stay plain Errors.
class ConstraintFailed : public Error {
 public:
  ConstraintFailed(const std::string& message, int extended_code_, std::string constraint_)
      : Error(Errc::database, message), extended_code(extended_code_), constraint(std::move(constraint_)) {}
  int extended_code;       // SQLITE_CONSTRAINT_UNIQUE, ...
  std::string constraint;  // SQLite's words for it: "UNIQUE constraint failed: users.email".
};

// Close and finalize through sql/sqlite.h, out of line: a deleter named here
// would call the SQLite this header was compiled against, not the one in use.
struct CloseConnection {
  bool owned = true;  // False for a connection borrowed from the caller: never closed here.
  void operator()(sqlite3* db) const noexcept;
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* stmt) const noexcept;
};

// The file of `connection`'s main database; empty when it is in memory or temporary.
std::string main_file(sqlite3* connection);

class Database {
 public:
  enum class Mode {
    open,            // An existing file, read-write.
    create,          // Read-write, created if missing.
    untrusted_read,  // A file from a stranger: read-only, immutable, hardened (bundle/reader).
    // An existing file this process cannot write (a read-only mount, no write
    // permission on it or its folder): read-only; where a WAL database's -shm
    // cannot be made, read as immutable, which is exact while no -wal file
    // holds anything (otherwise Error(database) says to copy it somewhere writable).
    read_only,
  };
  Database(const std::string& path, Mode mode);
  // The caller's own connection (the extension's SQL functions): used as it is
  // set up, never closed. Transactions on it commit with the caller's when it
  // holds one (Transaction). Throws Error(invalid_argument) when its main
  // database is in memory or temporary.
  explicit Database(sqlite3* borrowed);
  bool borrowed() const { return !db_.get_deleter().owned; }
  // True for a connection that cannot write (Mode::read_only, untrusted_read).
  bool read_only() const;
  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;

  void exec(const std::string& sql);
  Statement prepare(std::string_view sql, bool persistent = false);
  std::int64_t changes() const;
  std::int64_t last_insert_rowid() const;
  bool in_transaction() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_.get(); }

  // Throws Error for a non-OK SQLite code; `what` says what was being done.
  void check(int rc, std::string_view what) const;

 private:
  bool readable();  // True when the schema can be read (a read-only WAL database may not be).
  friend class Transaction;
  std::unique_ptr<sqlite3, CloseConnection> db_;
  std::string path_;
  bool transaction_held_ = false;  // A Transaction object is open on this connection.
};

class Statement {
 public:
  Statement(Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  // Binds are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t v);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, const void* data, std::size_t size);
  // As bind_blob, without a copy. REQUIRES: the bytes outlive the next step()/run().
  Statement& bind_blob_view(int index, const void* data, std::size_t size);
  Statement& bind(int index, const Value& v);
  // As bind(Value), without copying TEXT or BLOB bytes. REQUIRES: `v` outlives the next step()/run().
  Statement& bind_view(int index, const Value& v);
  Statement& bind_null(int index);

  // Runs one step; true while a row is available.
  bool step();
  // Runs to completion (for statements that return no rows).
  void run();
  // Ready to run again; parameters keep their bindings until bound anew.
  void reset();

  int column_count() const;
  std::string column_name(int col) const;
  int column_type(int col) const;  // SQLITE_INTEGER, ...
  bool is_null(int col) const;
  std::int64_t integer(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  Bytes blob(int col) const;
  // The column's bytes without a copy. Valid until the next step()/reset().
  std::string_view blob_view(int col) const;
  Value value(int col) const;  // Exact: REAL bits, TEXT bytes, BLOB bytes.

 private:
  Database* db_;
  std::unique_ptr<sqlite3_stmt, FinalizeStatement> stmt_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
// On a borrowed connection inside the caller's own transaction, a SAVEPOINT
// instead, released by commit() and rolled back to otherwise: the work then
// commits or rolls back with the caller's transaction.
// The ROLLBACK is prepared before the work starts, so that memory running out
// as the work fails does not also stop the rollback; should it fail all the
// same, the transaction it left open is rolled back by the next Transaction on
// the connection (or by closing it), never committed. One at a time: a
// Transaction begun inside another throws.
class Transaction {
 public:
  explicit Transaction(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& db_;
  std::optional<Statement> rollback_;
  bool savepoint_ = false;
  bool done_ = false;
};

// "name" with embedded quotes doubled: the only way an identifier reaches SQL text.
std::string quote_identifier(std::string_view name);

}  // namespace ferry::sql

namespace ferry::sql {

// Settings for a connection that reads a file from a stranger (bundle/reader):
// defensive mode, no trusted schema, triggers, views, extensions or FTS3
// tokenizer, no double-quoted string literals, and low limits. Every setting is
// checked. REQUIRES: called before the first statement on `db`.
void harden_for_untrusted(Database& db, int max_length);

}  // namespace ferry::sql
