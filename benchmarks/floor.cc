#include "floor.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

[[noreturn]] void fail(const std::string& what, sqlite3* db) {
  std::fprintf(stderr, "ferry_bench: floor: %s: %s\n", what.c_str(), db ? sqlite3_errmsg(db) : "failed");
  std::exit(1);
}

void exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql, db);
}

// ferry_log's rows, streamed from `from` into a table of the same shape in a new
// database set up as ferry sets up its own (WAL, synchronous=FULL).
double copy_log(const std::string& from, const std::string& to) {
  sqlite3 *in = nullptr, *out = nullptr;
  if (sqlite3_open_v2(from.c_str(), &in, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) fail("open " + from, in);
  if (sqlite3_open(to.c_str(), &out) != SQLITE_OK) fail("open " + to, out);
  exec(out, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE log(id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  sqlite3_stmt *rd = nullptr, *wr = nullptr;
  if (sqlite3_prepare_v2(in, "SELECT id, body FROM ferry_log ORDER BY id", -1, &rd, nullptr) != SQLITE_OK) fail("read the log", in);
  if (sqlite3_prepare_v2(out, "INSERT INTO log VALUES(?, ?)", -1, &wr, nullptr) != SQLITE_OK) fail("prepare", out);
  const auto t = Clock::now();
  exec(out, "BEGIN");
  while (sqlite3_step(rd) == SQLITE_ROW) {
    sqlite3_bind_int64(wr, 1, sqlite3_column_int64(rd, 0));
    sqlite3_bind_blob(wr, 2, sqlite3_column_blob(rd, 1), sqlite3_column_bytes(rd, 1), SQLITE_STATIC);
    if (sqlite3_step(wr) != SQLITE_DONE) fail("insert", out);
    sqlite3_reset(wr);
  }
  exec(out, "COMMIT");
  const double seconds = since(t);
  sqlite3_finalize(rd);
  sqlite3_finalize(wr);
  sqlite3_close(in);
  sqlite3_close(out);
  return seconds;
}

double copy_file(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (in < 0 || out < 0) fail("open " + from + " and " + to, nullptr);
  std::vector<char> buffer(1 << 20);
  const auto t = Clock::now();
  for (ssize_t n; (n = ::read(in, buffer.data(), buffer.size())) != 0;)
    if (n < 0 || ::write(out, buffer.data(), static_cast<std::size_t>(n)) != n) fail("copy " + from, nullptr);
  if (::fsync(out) != 0) fail("fsync " + to, nullptr);
  const double seconds = since(t);
  ::close(in);
  ::close(out);
  return seconds;
}

}  // namespace

Floor measure_floor(const std::string& ferry_db, const std::string& bundle, const std::string& dir) {
  Floor f;
  f.log_seconds = copy_log(ferry_db, dir + "/floor-log.db");
  f.bundle_seconds = copy_file(bundle, dir + "/floor.bundle");
  return f;
}

}  // namespace bench
