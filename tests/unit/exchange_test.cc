// Export and import between devices: only what a peer lacks goes out, and
// importing brings the receiver to the same rows, whatever the route.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "support/support.h"

using namespace ferry;
using test::exchange;
using test::Replica;

namespace {
const char* kSchema =
    "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, photo BLOB);"
    "CREATE TABLE tags(item INTEGER, tag TEXT, note TEXT, PRIMARY KEY(item, tag)) WITHOUT ROWID;";
}

TEST_CASE("a bundle carries every value type and key shape to another device exactly", "[bundle][import]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 9223372036854775807, -0.0, x''), (2, NULL, -9223372036854775808, 0.1, "
        "x'00ff00'), (3, 'nul' || char(0) || 'x', 0, 1e308, NULL);"
        "INSERT INTO tags VALUES(1, 'red', NULL), (1, 'blue', 'b'), (2, 'red', 'r');"
        "UPDATE items SET qty=5 WHERE id=2; DELETE FROM tags WHERE tag='blue'");
  ExportOptions all;
  all.all = true;
  a.engine.export_bundle(dir.file("types.ferry"), all);
  const auto report = verify_bundle(dir.file("types.ferry"));
  CHECK(report.ok);
  CHECK(report.operations == 8);  // 3 + 3 inserts, 1 update, 1 delete.
  CHECK(inspect_bundle(dir.file("types.ferry")).tables.size() == 2);
  const auto s = b.engine.import_bundle(dir.file("types.ferry"));
  CHECK(s.applied == 8);
  CHECK(s.duplicates == 0);
  CHECK(s.pending == 0);
  CHECK(b.dump("items") == a.dump("items"));
  CHECK(b.dump("tags") == a.dump("tags"));
  CHECK(test::count(b.path, "SELECT count(*) FROM items WHERE price=0.0 AND 1/price < 0") == 0);  // -0.0 stays REAL.
  CHECK(b.engine.verify().ok);
  // Applied operations are not captured again on the receiver.
  CHECK(b.engine.log(LogFilter{std::nullopt, std::nullopt, b.engine.device_id(), 0}).empty());
}

TEST_CASE("importing the same bundle twice changes nothing the second time", "[import]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items(id, name) VALUES(1, 'x'), (2, 'y')");
  ExportOptions all;
  all.all = true;
  a.engine.export_bundle(dir.file("all.ferry"), all);
  CHECK(b.engine.import_bundle(dir.file("all.ferry")).applied == 2);
  const std::string before = b.dump("items");
  const auto again = b.engine.import_bundle(dir.file("all.ferry"));
  CHECK(again.applied == 0);
  CHECK(again.duplicates == 2);
  CHECK(b.dump("items") == before);
}

TEST_CASE("only the operations the peer lacks go out, relayed ones included", "[bundle]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  a.sql("INSERT INTO items(id, name) VALUES(1, 'from a')");
  CHECK(exchange(a, b, dir).applied == 1);
  b.sql("INSERT INTO items(id, name) VALUES(2, 'from b')");
  CHECK(exchange(b, a, dir).applied == 1);  // b announced it has a's op: only b's own goes out.
  a.sql("UPDATE items SET qty=3 WHERE id=1");
  CHECK(exchange(a, b, dir).applied == 1);  // a learned from b's bundle what b has.
  const auto relayed = exchange(b, c, dir);  // c never met a: a's operations arrive through b.
  CHECK(relayed.applied == 3);
  CHECK(c.dump("items") == a.dump("items"));
  exchange(b, a, dir);  // b's bundle tells a that b now has a's update.
  ExportOptions to_b;
  to_b.peer = "b";
  const auto nothing = a.engine.export_bundle(dir.file("ack.ferry"), to_b);
  CHECK(nothing.operations == 0);
  CHECK(b.engine.import_bundle(dir.file("ack.ferry")).applied == 0);
}

TEST_CASE("a bundle that arrives before its predecessor waits as pending, then applies", "[import]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items(id, name) VALUES(1, 'one')");
  ExportOptions all;
  all.all = true;
  a.engine.export_bundle(dir.file("first.ferry"), all);
  a.sql("UPDATE items SET name='two' WHERE id=1; INSERT INTO items(id, name) VALUES(2, 'x')");
  ExportOptions since;
  since.since = a.engine.clock();
  VectorClock one;
  one.set(a.engine.device_id(), 1);
  since.since = one;
  a.engine.export_bundle(dir.file("second.ferry"), since);

  const auto early = b.engine.import_bundle(dir.file("second.ferry"));
  CHECK(early.applied == 0);
  CHECK(early.pending == 2);
  REQUIRE(early.missing.size() == 1);
  CHECK(early.missing[0].first == 1);
  CHECK(early.missing[0].last == 1);
  CHECK(b.dump("items").empty());
  CHECK(b.engine.status().pending_operations == 2);

  const auto late = b.engine.import_bundle(dir.file("first.ferry"));
  CHECK(late.applied == 3);
  CHECK(late.pending == 0);
  CHECK(b.dump("items") == a.dump("items"));
}

TEST_CASE("concurrent writes to different columns merge, to the same column they conflict", "[import][conflict]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items(id, name, qty) VALUES(1, 'bolt', 1)");
  exchange(a, b, dir);
  a.sql("UPDATE items SET name='bolt M6', qty=10 WHERE id=1");
  b.sql("UPDATE items SET qty=20, price=2.5 WHERE id=1");
  const auto to_b = exchange(a, b, dir);
  const auto to_a = exchange(b, a, dir);
  CHECK(to_b.conflicts == 1);
  CHECK(to_a.conflicts == 1);
  CHECK(a.dump("items") == b.dump("items"));
  CHECK_THAT(a.dump("items"), Catch::Contains("'bolt M6'") && Catch::Contains("2.5"));
  const auto ca = a.engine.conflicts(), cb = b.engine.conflicts();
  REQUIRE(ca.size() == 1);
  REQUIRE(cb.size() == 1);
  CHECK(ca[0].column == "qty");
  CHECK(ca[0].winner == cb[0].winner);
  CHECK(ca[0].loser == cb[0].loser);
  CHECK(*ca[0].winner_value != *ca[0].loser_value);

  SECTION("a resolution travels and closes the conflict everywhere") {
    a.engine.resolve(ca[0].id, Keep::loser);
    exchange(a, b, dir);
    CHECK(a.engine.conflicts().empty());
    CHECK(b.engine.conflicts().empty());
    CHECK(a.dump("items") == b.dump("items"));
    CHECK_THAT(a.dump("items"), Catch::Contains("|" + ca[0].loser_value->to_display() + "|"));
  }
}

TEST_CASE("update against delete: the row stays deleted and the conflict is recorded", "[import][conflict]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items(id, name) VALUES(1, 'bolt')");
  exchange(a, b, dir);
  a.sql("DELETE FROM items WHERE id=1");
  b.sql("UPDATE items SET name='nut' WHERE id=1");
  exchange(a, b, dir);
  exchange(b, a, dir);
  CHECK(a.dump("items").empty());
  CHECK(b.dump("items").empty());
  REQUIRE(a.engine.conflicts().size() == 1);
  REQUIRE(b.engine.conflicts().size() == 1);
  const auto c = b.engine.conflicts()[0];
  SECTION("keeping the update brings the row back on every replica") {
    const bool update_lost = !c.loser_value.has_value() ? false : true;
    b.engine.resolve(c.id, update_lost ? Keep::loser : Keep::winner);
    exchange(b, a, dir);
    CHECK(a.dump("items") == "1|'nut'|NULL|NULL|NULL\n");
    CHECK(b.dump("items") == a.dump("items"));
    CHECK(a.engine.conflicts().empty());
  }
}

TEST_CASE("the same key inserted on two devices converges to one row", "[import][conflict]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items(id, name, qty) VALUES(7, 'from a', 1)");
  b.sql("INSERT INTO items(id, name, qty) VALUES(7, 'from b', 1)");
  exchange(a, b, dir);
  exchange(b, a, dir);
  CHECK(a.dump("items") == b.dump("items"));
  CHECK(a.engine.conflicts().size() == 1);  // name differs; qty agrees.
}

TEST_CASE("a bundle for a table or column this database lacks is refused, nothing applied", "[import]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL)");
  a.sql("INSERT INTO items(id, name, photo) VALUES(1, 'x', x'01')");
  ExportOptions all;
  all.all = true;
  a.engine.export_bundle(dir.file("a.ferry"), all);
  try {
    (void)b.engine.import_bundle(dir.file("a.ferry"));
    FAIL("imported");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("column 'photo'") && Catch::Contains("ALTER TABLE"));
  }
  CHECK(b.dump("items").empty());
  b.sql("ALTER TABLE items ADD COLUMN photo BLOB");
  b.engine.track("items");
  CHECK(b.engine.import_bundle(dir.file("a.ferry")).applied == 1);
}

TEST_CASE("local changes not yet sealed are sealed first and take part in conflicts", "[import][conflict]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items(id, name) VALUES(1, 'x')");
  exchange(a, b, dir);
  a.sql("UPDATE items SET name='a' WHERE id=1");
  ExportOptions to_b;
  to_b.peer = b.engine.device_id().to_string();  // a has never heard b's name.
  a.engine.export_bundle(dir.file("u.ferry"), to_b);
  b.sql("UPDATE items SET name='b' WHERE id=1");  // Captured, not sealed.
  CHECK(b.engine.import_bundle(dir.file("u.ferry")).conflicts == 1);
}

TEST_CASE("a UNIQUE constraint the merged data would break skips that row and is recorded", "[import][conflict]") {
  test::TempDir dir;
  const char* schema = "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT)";
  Replica a(dir, "a", schema), b(dir, "b", schema);
  a.sql("INSERT INTO users VALUES(1, 'x@example.org', 'from a')");
  b.sql("INSERT INTO users VALUES(2, 'x@example.org', 'from b'), (3, 'y@example.org', 'other')");
  const auto s = exchange(a, b, dir);  // Not an aborted import.
  CHECK(s.applied == 1);
  CHECK(b.dump("users") == "2|'x@example.org'|'from b'\n3|'y@example.org'|'other'\n");
  const auto list = b.engine.conflicts();
  REQUIRE(list.size() == 1);
  CHECK(list[0].kind == "constraint");
  CHECK_THAT(list[0].detail, Catch::Contains("UNIQUE constraint failed: users.email"));
  CHECK(list[0].winner.origin == a.engine.device_id());
  b.engine.resolve(list[0].id, Keep::winner);  // Acknowledged on this device.
  CHECK(b.engine.conflicts().empty());
}

TEST_CASE("rows left without their parent are counted after an import", "[import]") {
  test::TempDir dir;
  const char* schema = "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
                       "CREATE TABLE child(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id));";
  Replica a(dir, "a", schema), b(dir, "b", schema);
  a.sql("INSERT INTO parent VALUES(1); INSERT INTO child VALUES(10, 1)");
  exchange(a, b, dir);
  b.sql("DELETE FROM parent WHERE id=1");  // Concurrently, b deletes the parent...
  a.sql("INSERT INTO child VALUES(11, 1)");  // ...while a adds a child to it.
  CHECK(exchange(a, b, dir).foreign_key_violations == 2);
}

TEST_CASE("delete against delete: the row is gone and there is no conflict", "[import][conflict]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items(id, name) VALUES(1, 'x')");
  exchange(a, b, dir);
  a.sql("DELETE FROM items");
  b.sql("DELETE FROM items");
  exchange(a, b, dir);
  exchange(b, a, dir);
  CHECK(a.dump("items").empty());
  CHECK(b.dump("items").empty());
  CHECK(a.engine.conflicts().empty());
  CHECK(b.engine.conflicts().empty());
}

TEST_CASE("columns an operation does not mention keep their values, or defaults on insert", "[import]") {
  test::TempDir dir;
  Replica a(dir, "a", "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"),
      b(dir, "b", "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, extra TEXT DEFAULT 'local default')");
  a.sql("INSERT INTO t VALUES(1, 'one')");
  exchange(a, b, dir);
  CHECK(b.dump("t") == "1|'one'|'local default'\n");
  b.sql("UPDATE t SET extra='kept' WHERE id=1");
  a.sql("UPDATE t SET v='uno' WHERE id=1");
  exchange(a, b, dir);
  CHECK(b.dump("t") == "1|'uno'|'kept'\n");
}

namespace {

std::set<std::string> open_conflicts(Engine& e) {
  std::set<std::string> out;
  for (const auto& c : e.conflicts())
    out.insert(c.table + "|" + c.column + "|" + c.winner.origin.to_string() + std::to_string(c.winner.seq) + "|" +
               c.loser.origin.to_string() + std::to_string(c.loser.seq));
  return out;
}

}  // namespace

TEST_CASE("a snapshot starts a new device from the current state, and every chain continues", "[bundle][snapshot]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  a.sql("INSERT INTO items(id, name, qty) VALUES(1, 'bolt', 1), (2, 'nut', 2), (3, 'gone', 3)");
  for (int i = 0; i < 20; ++i) a.sql("UPDATE items SET qty=qty+1 WHERE id=1");  // History a snapshot need not replay.
  a.sql("DELETE FROM items WHERE id=3; INSERT INTO tags VALUES(1, 'red', NULL)");
  exchange(a, b, dir);
  a.sql("UPDATE items SET name='bolt A' WHERE id=1");
  b.sql("UPDATE items SET name='bolt B' WHERE id=1");  // A conflict the snapshot must carry.
  exchange(b, a, dir);
  REQUIRE(a.engine.conflicts().size() == 1);

  ExportOptions snapshot;
  snapshot.snapshot = true;
  a.engine.export_bundle(dir.file("snap.ferry"), snapshot);
  const BundleInfo info = inspect_bundle(dir.file("snap.ferry"));
  CHECK(info.snapshot);
  CHECK(info.operations < a.engine.log().size());
  CHECK(verify_bundle(dir.file("snap.ferry")).ok);

  CHECK(c.engine.import_bundle(dir.file("snap.ferry")).applied == info.operations);
  CHECK(c.dump("items") == a.dump("items"));
  CHECK(c.dump("tags") == a.dump("tags"));
  CHECK(open_conflicts(c.engine) == open_conflicts(a.engine));
  CHECK(c.engine.clock() == a.engine.clock());
  CHECK(c.engine.verify().ok);

  // Chains continue from the snapshot's heads, in both directions and through a device c never met.
  a.sql("UPDATE items SET qty=100 WHERE id=2");
  CHECK(exchange(a, c, dir).applied == 1);
  c.sql("INSERT INTO items(id, name) VALUES(9, 'from c')");
  CHECK(exchange(c, a, dir).applied == 1);
  exchange(a, b, dir);  // b catches up with a; c cannot send what predates its snapshot.
  b.sql("UPDATE items SET qty=7 WHERE id=1");
  exchange(b, c, dir);
  exchange(c, b, dir);
  exchange(b, a, dir);
  exchange(a, c, dir);
  CHECK(c.dump("items") == a.dump("items"));
  CHECK(b.dump("items") == a.dump("items"));
  CHECK(open_conflicts(c.engine) == open_conflicts(a.engine));
  CHECK(c.engine.verify().ok);

  SECTION("a snapshot is refused by a database that already holds operations") {
    try {
      (void)b.engine.import_bundle(dir.file("snap.ferry"));
      FAIL("imported");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::refused);
      CHECK_THAT(e.what(), Catch::Contains("starts a new device"));
    }
  }
  SECTION("a device started from a snapshot cannot send history it never held") {
    Replica d(dir, "d", kSchema);
    ExportOptions all;
    all.all = true;
    CHECK_THROWS_WITH(c.engine.export_bundle(dir.file("c-all.ferry"), all), Catch::Contains("send it a snapshot"));
    snapshot.snapshot = true;
    c.engine.export_bundle(dir.file("c-snap.ferry"), snapshot);
    CHECK(d.engine.import_bundle(dir.file("c-snap.ferry")).applied > 0);
    CHECK(d.dump("items") == c.dump("items"));
    CHECK(d.engine.verify().ok);
  }
}

TEST_CASE("operations waiting for their past are settled by a snapshot that covers them", "[bundle][snapshot]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), c(dir, "c", kSchema);
  a.sql("INSERT INTO items(id, name, qty) VALUES(1, 'bolt', 1), (2, 'nut', 2)");
  for (int i = 0; i < 5; ++i) a.sql("UPDATE items SET qty=qty+1 WHERE id=2");  // Seqs 3-7.
  a.sql("UPDATE items SET name='bolt 2' WHERE id=1");                          // Seq 8.
  ExportOptions tail;
  tail.since = VectorClock();
  tail.since->set(a.engine.device_id(), 5);
  a.engine.export_bundle(dir.file("tail.ferry"), tail);  // Seqs 6-8: c lacks 1-5, so they wait.
  REQUIRE(c.engine.import_bundle(dir.file("tail.ferry")).pending == 3);

  // A snapshot of a at seq 8 holds only what the rows depend on (seqs 1, 7 and 8, not
  // 6), and vouches for the rest: the waiting ones are settled, not called a fork.
  ExportOptions snapshot;
  snapshot.snapshot = true;
  a.engine.export_bundle(dir.file("snap.ferry"), snapshot);
  const auto s = c.engine.import_bundle(dir.file("snap.ferry"));
  CHECK(s.pending == 0);
  CHECK(c.dump("items") == a.dump("items"));
  CHECK(c.engine.status().missing.empty());
  CHECK(c.engine.verify().ok);
  a.sql("UPDATE items SET qty=0 WHERE id=1");
  CHECK(exchange(a, c, dir).applied == 1);  // The chain continues from the snapshot's head.
  CHECK(c.dump("items") == a.dump("items"));
}

TEST_CASE("a REAL zero whose sign alone changes is captured and arrives bit for bit, an untouched zero is not sent",
          "[exchange][capture]") {
  test::TempDir dir;
  const char* schema = "CREATE TABLE z(id INTEGER PRIMARY KEY, x, n TEXT)";  // x untyped: it keeps -0.0 as it is.
  Replica a(dir, "a", schema), b(dir, "b", schema);
  a.sql("INSERT INTO z VALUES(1, 0.0, 'one'), (2, -0.0, 'two')");
  exchange(a, b, dir);
  a.sql("UPDATE z SET x=-0.0 WHERE id=1; UPDATE z SET x=0.0 WHERE id=2");  // SQL calls both "no change".
  a.sql("UPDATE z SET n='uno' WHERE id=1");
  CHECK(a.engine.seal() == 3);
  for (const Operation& op : a.engine.log())
    if (op.seq == 5) CHECK(op.columns.size() == 1);  // The name only: x is still the zero it was.
  test::exchange(a, b, dir);
  auto sign_of_x = [](const test::Replica& r, int id) {
    auto db = test::app(r.path);
    auto st = db.prepare("SELECT x FROM z WHERE id=" + std::to_string(id));
    REQUIRE(st.step());
    return std::signbit(st.value(0).as_real());
  };
  CHECK(sign_of_x(b, 1));
  CHECK_FALSE(sign_of_x(b, 2));
}
