#pragma once
// What every SQL function of the extension shares: which connection ferry
// works on, arguments, results, and the one way a function runs (a failure
// becomes an SQL error with ferry's message and the result code of its kind).
// Include only in the extension's .cc files (sql/sqlite.h).
#include "sql/sqlite.h"

#include <cstring>
#include <string>

#include "ferry/engine.h"
#include "ferry/json.h"
#include "sql/database.h"

namespace ferry::extension {

// ferry on the calling connection: its work is a transaction of its own, or a
// SAVEPOINT in the caller's (Engine::on_connection).
inline ferry::Engine on_caller(sqlite3_context* ctx) {
  return ferry::Engine::on_connection(sqlite3_context_db_handle(ctx));
}

// ferry on a connection of its own to the calling connection's database, for
// the verbs whose commits must be durable before they go on (a bundle appears
// only after its operations are in the log; a new key only with its identity):
// refused at once inside the caller's transaction, which would hold them back.
inline std::string own_connection_file(sqlite3_context* ctx, const char* function) {
  sqlite3* caller = sqlite3_context_db_handle(ctx);
  const std::string file = ferry::sql::main_file(caller);
  if (file.empty())
    throw ferry::Error(ferry::Errc::invalid_argument,
                       "ferry needs a database file; this connection's main database is in memory or temporary");
  if (sqlite3_get_autocommit(caller) == 0)
    throw ferry::Error(ferry::Errc::refused,
                       std::string(function) + " cannot run inside an open transaction: what it writes must be durable "
                       "before it goes on, and your transaction could still roll back. Commit (or roll back) first, "
                       "then call it");
  return file;
}

inline std::string text_arg(sqlite3_value* v, const char* what) {
  const unsigned char* t = sqlite3_value_text(v);
  if (t == nullptr || sqlite3_value_type(v) == SQLITE_NULL)
    throw ferry::Error(ferry::Errc::invalid_argument, std::string(what) + " must not be NULL");
  return reinterpret_cast<const char*>(t);
}

inline ferry::Value value_of(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return ferry::Value::integer(sqlite3_value_int64(v));
    case SQLITE_FLOAT: return ferry::Value::real(sqlite3_value_double(v));
    case SQLITE_TEXT:
      return ferry::Value::text(std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                                            static_cast<std::size_t>(sqlite3_value_bytes(v))));
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
      return ferry::Value::blob(ferry::Bytes(p, p + sqlite3_value_bytes(v)));
    }
    default: return ferry::Value();
  }
}

inline void result_json(sqlite3_context* ctx, const ferry::render::json& j) {
  const std::string text = j.dump();
  sqlite3_result_text(ctx, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// The SQLite result code for each kind of ferry error, so that an app can
// branch on the code, not the message (README, "Embedding").
inline int result_code(ferry::Errc code) {
  switch (code) {
    case ferry::Errc::corrupt: return SQLITE_CORRUPT;             // A damaged bundle or log.
    case ferry::Errc::untrusted: return SQLITE_AUTH;              // An untrusted device or key.
    case ferry::Errc::refused: return SQLITE_CONSTRAINT;          // Valid input ferry will not accept.
    case ferry::Errc::invalid_argument: return SQLITE_MISMATCH;   // An argument of the wrong kind or value.
    case ferry::Errc::not_found: return SQLITE_NOTFOUND;          // No such file, table, device or conflict.
    case ferry::Errc::database: return SQLITE_ERROR;              // SQLite failed; the message says how.
    case ferry::Errc::internal: return SQLITE_INTERNAL;
  }
  return SQLITE_ERROR;
}

// Runs one SQL function; every failure becomes an SQL error with ferry's
// message and the result code of its kind.
template <typename F>
void call(sqlite3_context* ctx, F&& body) {
  try {
    body();
  } catch (const ferry::Error& e) {
    sqlite3_result_error(ctx, e.what(), -1);
    sqlite3_result_error_code(ctx, result_code(e.code()));
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, (std::string("ferry: internal error (please report it): ") + e.what()).c_str(), -1);
  }
}

// One SQL function: its name, how many arguments it takes (-1: any), its body.
struct Function {
  const char* name;
  int args;
  void (*fn)(sqlite3_context*, int, sqlite3_value**);
};

// The fleet's functions (fleet_functions.cc).
extern const Function kFleetFunctions[];
extern const std::size_t kFleetFunctionCount;

}  // namespace ferry::extension
