// sql::ConstraintFailed: a write a row constraint refused is told apart by
// SQLite's extended result code, whatever the message says; anything else --
// a trigger's RAISE, a missing table -- stays a plain Error.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "sql/database.h"
#include "support/support.h"

using namespace ferry;

namespace {

struct Db {
  test::TempDir dir;
  sql::Database db{dir.file("t.db"), sql::Database::Mode::create};
  Db() {
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, email TEXT UNIQUE, n INTEGER NOT NULL DEFAULT 0 CHECK(n >= 0))");
    db.exec("INSERT INTO t(id, email) VALUES(1, 'a@x')");
  }
  // Runs `sql` and returns the ConstraintFailed it throws; fails the test otherwise.
  sql::ConstraintFailed refused(const std::string& text) {
    try {
      db.prepare(text).run();
    } catch (const sql::ConstraintFailed& e) {
      return e;
    }
    FAIL("no ConstraintFailed from: " << text);
    return sql::ConstraintFailed("", 0, "");  // Not reached: FAIL throws.
  }
};

}  // namespace

TEST_CASE("each row constraint is named by its extended result code and SQLite's words", "[sql]") {
  Db d;
  const auto unique = d.refused("INSERT INTO t(id, email) VALUES(2, 'a@x')");
  CHECK(unique.extended_code == SQLITE_CONSTRAINT_UNIQUE);
  CHECK(unique.constraint == "UNIQUE constraint failed: t.email");
  CHECK(unique.code() == Errc::database);
  CHECK(d.refused("INSERT INTO t(id) VALUES(1)").extended_code == SQLITE_CONSTRAINT_PRIMARYKEY);
  CHECK(d.refused("UPDATE t SET n=NULL").extended_code == SQLITE_CONSTRAINT_NOTNULL);
  const auto check = d.refused("UPDATE t SET n=-1");
  CHECK(check.extended_code == SQLITE_CONSTRAINT_CHECK);
  CHECK(check.constraint.find("CHECK constraint failed") == 0);
}

TEST_CASE("a trigger's RAISE that mentions a constraint is not a row constraint", "[sql]") {
  Db d;
  d.db.exec("CREATE TRIGGER no_b BEFORE INSERT ON t WHEN NEW.email = 'b@x' "
            "BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: t.email'); END");
  try {
    d.db.prepare("INSERT INTO t(id, email) VALUES(3, 'b@x')").run();
    FAIL("the trigger did not refuse");
  } catch (const sql::ConstraintFailed&) {
    FAIL("a trigger's words were taken for a constraint");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("UNIQUE constraint failed") != std::string::npos);
  }
}
