// ferry tells rows apart by the bytes of their key, SQLite by comparing values.
// Where the two could disagree -- a NULL in the key, a REAL with an integer
// value in a key column that keeps numbers as given -- the row is held back and
// listed, never sent: devices never diverge without saying so.
#include <catch2/catch.hpp>

#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

bool holds(const StatusReport& s, const std::string& table, const Value& key, const std::string& reason) {
  for (const auto& h : s.held)
    if (h.table == table && h.key == std::vector<Value>{key} && h.reason.find(reason) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("keys SQLite calls equal but ferry would not (1 and 1.0, 0.0 and -0.0) are held back, by name",
          "[capture][keys]") {
  test::TempDir dir;
  const char* schema = "CREATE TABLE n(k PRIMARY KEY, v TEXT)";  // No type: BLOB affinity keeps 1.0 as a REAL.
  Replica a(dir, "a", schema);
  Replica b(dir, "b", schema);
  a.sql("INSERT INTO n VALUES(1, 'a one'), (0.0, 'a zero'), (2.5, 'a half'), ('1', 'a text')");
  b.sql("INSERT INTO n VALUES(1.0, 'b one'), (-0.0, 'b zero')");
  test::exchange(a, b, dir);
  test::exchange(b, a, dir);
  const StatusReport sa = a.engine.status(), sb = b.engine.status();
  CHECK(holds(sa, "n", Value::real(0.0), "holds the REAL 0.0"));
  CHECK(holds(sb, "n", Value::real(1.0), "the same row as the INTEGER 1"));
  CHECK(holds(sb, "n", Value::real(-0.0), "declare the column INTEGER or REAL"));
  CHECK(sa.held.size() == 1);
  CHECK(sb.held.size() == 2);
  // What was sent is the same everywhere: 1, 2.5 and '1' are told apart alike by SQLite and ferry.
  CHECK(test::count(b.path, "SELECT count(*) FROM n WHERE (k = 2.5 AND v = 'a half') OR (k = '1' AND v = 'a text')") == 2);
  // b's row 1.0 took a's values (the same row to SQLite), but is still held: the two differ in how the key is stored.
  CHECK(test::count(b.path, "SELECT count(*) FROM n WHERE typeof(k) = 'real' AND k = 1 AND v = 'a one'") == 1);
  // Made INTEGERs, the keys are sent like any other.
  b.sql("DELETE FROM n WHERE k = 0; UPDATE n SET k = 1 WHERE k = 1");
  a.sql("UPDATE n SET k = 0 WHERE v = 'a zero'");
  test::exchange(b, a, dir);
  test::exchange(a, b, dir);
  CHECK(a.engine.status().held.empty());
  CHECK(b.engine.status().held.empty());
  CHECK(a.dump("n") == b.dump("n"));
}

TEST_CASE("rows whose key is NULL in a rowid table are held back, as SQLite keeps each apart", "[capture][keys]") {
  test::TempDir dir;
  const char* schema = "CREATE TABLE u(name TEXT PRIMARY KEY, v INTEGER)";  // A rowid table lets NULL keys in.
  Replica a(dir, "a", schema);
  Replica b(dir, "b", schema);
  a.sql("INSERT INTO u VALUES(NULL, 1), (NULL, 2), ('x', 3)");
  test::exchange(a, b, dir);
  const StatusReport s = a.engine.status();
  REQUIRE(s.held.size() == 1);
  CHECK(holds(s, "u", Value(), "is NULL, and SQLite keeps every row with a NULL key apart"));
  CHECK(b.dump("u") == "'x'|3\n");
  a.sql("UPDATE u SET name = 'n' || v WHERE name IS NULL");
  test::exchange(a, b, dir);
  CHECK(a.engine.status().held.empty());
  CHECK(b.dump("u") == a.dump("u"));
}
