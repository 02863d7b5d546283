// Capture: every INSERT, UPDATE and DELETE on a tracked table becomes an
// operation, exactly, whoever wrote it.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

#include "support/support.h"

using namespace ferry;

namespace {

std::vector<Operation> oldest_first(Engine& e) {
  auto ops = e.log();
  std::reverse(ops.begin(), ops.end());
  return ops;
}

const Value* column(const Operation& op, const std::string& name) {
  for (const auto& c : op.columns)
    if (c.name == name) return &c.value;
  return nullptr;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("init creates a device identity once and keeps it", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  DeviceId first;
  {
    auto e = Engine::init(path, "laptop");
    first = e.device_id();
    CHECK(e.device_name() == "laptop");
    CHECK((first.bytes[6] >> 4) == 7);  // UUIDv7.
  }
  auto again = Engine::init(path, "other-name");
  CHECK(again.device_id() == first);
  CHECK(again.device_name() == "laptop");
  CHECK(Engine::open(path).device_id() == first);
}

TEST_CASE("opening a database ferry never prepared is refused with what to do", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("plain.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY)");
  try {
    (void)Engine::open(path);
    FAIL("opened");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("ferry init"));
  }
  CHECK_THROWS_MATCHES(Engine::open(dir.file("missing.db")), Error, Catch::Matchers::Predicate<Error>([](const Error& e) {
                         return e.code() == Errc::not_found;
                       }));
}

TEST_CASE("a database prepared by an older or newer ferry is refused with what to do", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY)");
  (void)Engine::init(path);
  const auto [format, expected] = GENERATE(table<int, std::string>({{1, "pre-release ferry (local format 1)"},
                                                                      {99, "newer ferry (local format 99)"}}));
  test::exec(path, "UPDATE ferry_meta SET value=" + std::to_string(format) + " WHERE key='format'");
  for (auto opening : {+[](const std::string& p) { (void)Engine::open(p); }, +[](const std::string& p) { (void)Engine::init(p); }}) {
    try {
      opening(path);
      FAIL("opened");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::refused);
      CHECK_THAT(e.what(), Catch::Contains(expected) && Catch::Contains(path));
    }
  }
}

TEST_CASE("every value type round-trips exactly through capture", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE v(id INTEGER PRIMARY KEY, x)");
  auto e = Engine::init(path, "a");
  e.track("v");
  auto db = test::app(path);
  auto ins = db.prepare("INSERT INTO v(id, x) VALUES(?, ?)");
  const std::vector<Value> values = {
      Value(),
      Value::integer(std::numeric_limits<std::int64_t>::min()),
      Value::integer(std::numeric_limits<std::int64_t>::max()),
      Value::integer(0),
      Value::real(-0.0),
      Value::real(0.1),
      Value::real(1.0),
      Value::real(1e308),
      Value::real(5e-324),
      Value::real(std::numeric_limits<double>::infinity()),
      Value::real(-std::numeric_limits<double>::infinity()),
      Value::text(""),
      Value::text(std::string("a\0b", 3)),
      Value::text("héllo ✓ 🚢"),
      Value::blob({}),
      Value::blob(Bytes(3 << 20, 0xab)),
  };
  for (std::size_t i = 0; i < values.size(); ++i) {
    ins.bind(1, static_cast<std::int64_t>(i)).bind(2, values[i]);
    ins.run();
  }
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("value " << i << ": " << values[i].to_display().substr(0, 40));
    const Value* x = column(ops[i], "x");
    REQUIRE(x != nullptr);
    CHECK(*x == values[i]);
    if (values[i].type() == Value::Type::real) CHECK(same_bits(x->as_real(), values[i].as_real()));
  }
}

TEST_CASE("every primary-key shape is captured", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  const auto shape = GENERATE(table<std::string, std::string>({
      {"CREATE TABLE t(k INTEGER PRIMARY KEY, v)", "7"},
      {"CREATE TABLE t(k TEXT PRIMARY KEY, v)", "'seven'"},
      {"CREATE TABLE t(k BLOB PRIMARY KEY, v)", "x'07'"},
      {"CREATE TABLE t(a, k, v, PRIMARY KEY(k, a))", "x'01'"},
      {"CREATE TABLE t(k TEXT PRIMARY KEY, v) WITHOUT ROWID", "'seven'"},
  }));
  const std::string ddl = std::get<0>(shape), key = std::get<1>(shape);
  INFO(ddl);
  test::exec(path, ddl);
  auto e = Engine::init(path);
  e.track("t");
  const bool composite = ddl.find("PRIMARY KEY(k, a)") != std::string::npos;
  test::exec(path, composite ? "INSERT INTO t(a, k, v) VALUES(1, " + key + ", 'one'); UPDATE t SET v='two'; DELETE FROM t"
                             : "INSERT INTO t(k, v) VALUES(" + key + ", 'one'); UPDATE t SET v='two'; DELETE FROM t");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 3);
  CHECK(ops[0].kind == OpKind::insert);
  CHECK(ops[1].kind == OpKind::update);
  CHECK(ops[2].kind == OpKind::remove);
  for (const auto& op : ops) CHECK(op.key == ops[0].key);
  CHECK(ops[0].key.size() == (composite ? 2u : 1u));
  if (composite) CHECK(ops[0].key[1] == Value::integer(1));  // Key order is PRIMARY KEY(k, a): k first.
}

TEST_CASE("a table without a declared primary key is refused with a clear message", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE loose(a, b); CREATE VIEW w AS SELECT 1");
  auto e = Engine::init(path);
  try {
    e.track("loose");
    FAIL("tracked");
  } catch (const Error& err) {
    CHECK(err.code() == Errc::refused);
    CHECK_THAT(err.what(), Catch::Contains("no declared PRIMARY KEY"));
  }
  CHECK_THROWS_AS(e.track("nope"), Error);
  CHECK_THROWS_AS(e.track("w"), Error);
  CHECK_THROWS_AS(e.track("ferry_log"), Error);
}

TEST_CASE("a table whose key compares with a collation other than BINARY is refused, saying why", "[capture]") {
  // Under NOCASE, 'k' and 'K' are one row of the table but two keys to ferry: two
  // devices inserting them would each keep their own row, with no conflict recorded.
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE emails(address TEXT COLLATE NOCASE PRIMARY KEY, v); "
                   "CREATE TABLE parts(a TEXT, b TEXT, v, PRIMARY KEY(a, b COLLATE RTRIM)) WITHOUT ROWID; "
                   "CREATE TABLE plain(k TEXT COLLATE BINARY PRIMARY KEY, v COLLATE NOCASE)");
  auto e = Engine::init(path);
  for (const auto& [table, column, collation] : {std::tuple{"emails", "address", "NOCASE"}, std::tuple{"parts", "b", "RTRIM"}}) {
    try {
      e.track(table);
      FAIL("tracked " << table);
    } catch (const Error& err) {
      CHECK(err.code() == Errc::refused);
      CHECK_THAT(err.what(), Catch::Contains(std::string("column '") + column + "' compares with COLLATE " + collation) &&
                                 Catch::Contains("BINARY"));
    }
  }
  CHECK(e.tables().empty());
  e.track("plain");  // An explicit BINARY key, and a collation off the key, are fine.
  CHECK(e.tables().size() == 1);
}

TEST_CASE("an UPDATE records only the columns that changed, a DELETE only the key", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, a, b, c)");
  auto e = Engine::init(path);
  e.track("t");
  test::exec(path, "INSERT INTO t VALUES(1, 'x', 2, 3.5); UPDATE t SET b=7, c=3.5 WHERE id=1; "
                   "UPDATE t SET a='x'; UPDATE t SET b=7.0; DELETE FROM t");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 4);  // The no-op UPDATE a='x' is not an operation.
  REQUIRE(ops[1].columns.size() == 1);
  CHECK(ops[1].columns[0].name == "b");
  CHECK(ops[1].columns[0].value == Value::integer(7));
  REQUIRE(ops[2].columns.size() == 1);  // 7 -> 7.0 changes the type: recorded.
  CHECK(ops[2].columns[0].value == Value::real(7.0));
  CHECK(ops[3].kind == OpKind::remove);
  CHECK(ops[3].columns.empty());
  CHECK(ops[3].key == std::vector<Value>{Value::integer(1)});
}

TEST_CASE("an UPDATE is compared byte for byte, whatever the column's collation or declared type", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(k TEXT PRIMARY KEY, a TEXT COLLATE NOCASE, b TEXT COLLATE RTRIM, "
                   "i INTEGER, r REAL, n DECIMAL(10,2), x)");
  auto e = Engine::init(path);
  e.track("t");
  test::exec(path, "INSERT INTO t VALUES('k', 'abc', 'a', 1, 1.5, 2, 3)");
  SECTION("a change only a collation hides is recorded") {
    test::exec(path, "UPDATE t SET a='ABC', b='a '");
    const auto ops = oldest_first(e);
    REQUIRE(ops.size() == 2);
    REQUIRE(ops[1].columns.size() == 2);
    CHECK(*column(ops[1], "a") == Value::text("ABC"));
    CHECK(*column(ops[1], "b") == Value::text("a "));
  }
  SECTION("a key that changes only in case moves the whole row, other columns unchanged") {
    test::exec(path, "UPDATE t SET k='K'");
    const auto ops = oldest_first(e);
    REQUIRE(ops.size() == 3);
    CHECK(ops[1].kind == OpKind::remove);
    CHECK(ops[1].key[0] == Value::text("k"));
    CHECK(ops[2].kind == OpKind::insert);
    CHECK(ops[2].key[0] == Value::text("K"));
    CHECK(ops[2].columns.size() == 7);
    CHECK(*column(ops[2], "a") == Value::text("abc"));
  }
  SECTION("a value the column's affinity stores unchanged is no change; an untyped column keeps its type") {
    test::exec(path, "UPDATE t SET i=1.0, r=1.5, n=2.0, x=3.0");
    const auto ops = oldest_first(e);
    REQUIRE(ops.size() == 2);
    REQUIRE(ops[1].columns.size() == 1);
    CHECK(*column(ops[1], "x") == Value::real(3.0));
  }
}

TEST_CASE("capture triggers an older ferry wrote are replaced at the next seal", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT COLLATE NOCASE)");
  auto e = Engine::init(path);
  e.track("t");
  // As a database from before version 2 of the triggers: here, its update trigger lost.
  test::exec(path, "DELETE FROM ferry_meta WHERE key='capture_triggers'; DROP TRIGGER \"ferry_capture_t_update\"");
  test::exec(path, "INSERT INTO t VALUES(1, 'abc')");
  CHECK(e.seal() == 1);
  test::exec(path, "UPDATE t SET a='ABC'");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 2);
  CHECK(*column(ops[1], "a") == Value::text("ABC"));
}

TEST_CASE("rolled-back changes leave no operation, committed ones keep commit order", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v); CREATE TABLE u(id TEXT PRIMARY KEY, w)");
  auto e = Engine::init(path);
  e.track("t");
  e.track("u");
  test::exec(path, "BEGIN; INSERT INTO t VALUES(1, 'gone'); ROLLBACK");
  test::exec(path, "BEGIN; INSERT INTO t VALUES(2, 'a'); SAVEPOINT s; INSERT INTO u VALUES('x', 1); "
                   "ROLLBACK TO s; INSERT INTO u VALUES('y', 2); RELEASE s; UPDATE t SET v='b' WHERE id=2; COMMIT");
  test::exec(path, "INSERT INTO t VALUES(3, 'c'), (4, 'd'), (5, 'e')");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 6);
  CHECK(ops[0].table == "t");
  CHECK(ops[0].key[0] == Value::integer(2));
  CHECK(ops[1].table == "u");
  CHECK(ops[1].key[0] == Value::text("y"));
  CHECK(ops[2].kind == OpKind::update);
  CHECK(ops[5].key[0] == Value::integer(5));
  for (std::size_t i = 0; i < ops.size(); ++i) CHECK(ops[i].seq == i + 1);
}

TEST_CASE("operation ids are distinct UUIDv7s that share their device's bytes, so bundles compress", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  auto e = Engine::init(path);
  e.track("t");
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  test::exec(path, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
                   "INSERT INTO t SELECT i, i FROM n");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 300);
  std::set<std::string> ids;
  for (const auto& op : ops) {
    ids.insert(op.id.to_string());
    CHECK((op.id.bytes[6] >> 4) == 7);       // Version 7,
    CHECK((op.id.bytes[8] >> 6) == 2);       // RFC 9562 variant,
    CHECK(op.id.unix_ms() >= before - 1);    // sealed now,
    CHECK(op.id.bytes[7] == e.device_id().bytes[7]);  // the device's own bits,
    std::uint64_t low = 0;                   // and its seq XORed into the last 64.
    for (int i = 8; i < 16; ++i) low = (low << 8) | (op.id.bytes[i] ^ e.device_id().bytes[i]);
    CHECK((low & 0x3fffffffffffffffULL) == op.seq);
  }
  CHECK(ids.size() == ops.size());
}

TEST_CASE("INSERT OR REPLACE, UPSERT and key-changing updates are recorded so a replica can reproduce them",
          "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w DEFAULT 'd')");
  auto e = Engine::init(path);
  e.track("t");
  test::exec(path, "INSERT INTO t(id, v) VALUES(1, 'a')");
  test::exec(path, "INSERT OR REPLACE INTO t(id, v) VALUES(1, 'b')");
  test::exec(path, "INSERT INTO t(id, v) VALUES(1, 'c') ON CONFLICT(id) DO UPDATE SET v=excluded.v");
  test::exec(path, "UPDATE t SET id=9 WHERE id=1");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 5);
  CHECK(ops[1].kind == OpKind::insert);
  CHECK(*column(ops[1], "v") == Value::text("b"));
  CHECK(ops[2].kind == OpKind::update);
  CHECK(*column(ops[2], "v") == Value::text("c"));
  CHECK(ops[3].kind == OpKind::remove);
  CHECK(ops[3].key[0] == Value::integer(1));
  CHECK(ops[4].kind == OpKind::insert);
  CHECK(ops[4].key[0] == Value::integer(9));
  CHECK(*column(ops[4], "v") == Value::text("c"));
  CHECK(*column(ops[4], "w") == Value::text("d"));
}

TEST_CASE("column names that are keywords or hold quotes and spaces work", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, R"(CREATE TABLE "my ""odd"" table"("select" INTEGER PRIMARY KEY, "a b" TEXT, "x""y" REAL))");
  auto e = Engine::init(path);
  e.track("my \"odd\" table");
  test::exec(path, R"(INSERT INTO "my ""odd"" table" VALUES(1, 'p', 2.5); UPDATE "my ""odd"" table" SET "x""y"=3.5)");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 2);
  CHECK(*column(ops[0], "a b") == Value::text("p"));
  CHECK(*column(ops[1], "x\"y") == Value::real(3.5));
}

TEST_CASE("tracking again after ALTER TABLE ADD COLUMN captures the new column", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  auto e = Engine::init(path);
  e.track("t");
  test::exec(path, "INSERT INTO t VALUES(1, 'a')");
  test::exec(path, "ALTER TABLE t ADD COLUMN extra TEXT");
  CHECK(e.track("t") == 0);  // Not a new table: no backfill.
  test::exec(path, "UPDATE t SET extra='new' WHERE id=1");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 2);
  CHECK(*column(ops[1], "extra") == Value::text("new"));
  CHECK(e.tables()[0].columns == std::vector<std::string>{"id", "v", "extra"});
}

TEST_CASE("tracking a table that already holds rows backfills them as operations", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES(2, 'b'), (1, 'a')");
  auto e = Engine::init(path);
  CHECK(e.track("t") == 2);
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].key[0] == Value::integer(1));
  CHECK(ops[1].key[0] == Value::integer(2));
  CHECK(e.track("t") == 0);
}

TEST_CASE("the sqlite3 shell and another process are captured without loading anything", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  auto e = Engine::init(path);
  e.track("t");
  auto shell = test::run("sqlite3 " + test::shell_quote(path) + " \"INSERT INTO t VALUES(1, 'from the shell')\"");
  REQUIRE(shell.status == 0);
  auto py = test::run("python3 -c \"import sqlite3; c=sqlite3.connect('" + path +
                      "'); c.execute(\\\"UPDATE t SET v='from python'\\\"); c.commit()\"");
  REQUIRE(py.status == 0);
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 2);
  CHECK(*column(ops[0], "v") == Value::text("from the shell"));
  CHECK(*column(ops[1], "v") == Value::text("from python"));
}

TEST_CASE("the log is append-only through SQL", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  auto e = Engine::init(path);
  e.track("t");
  test::exec(path, "INSERT INTO t VALUES(1, 'a')");
  (void)e.seal();
  CHECK_THROWS_WITH(test::exec(path, "UPDATE ferry_log SET id=5"), Catch::Contains("append-only"));
  CHECK_THROWS_WITH(test::exec(path, "DELETE FROM ferry_log"), Catch::Contains("append-only"));
}

TEST_CASE("operations carry sequence, Lamport time, clock and chain links", "[capture]") {
  test::TempDir dir;
  const auto path = dir.file("app.db");
  test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  auto e = Engine::init(path);
  e.track("t");
  test::exec(path, "INSERT INTO t VALUES(1, 'a'); INSERT INTO t VALUES(2, 'b')");
  const auto ops = oldest_first(e);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].prev_hash == Hash{});
  CHECK(ops[1].prev_hash != Hash{});
  CHECK(ops[1].lamport > ops[0].lamport);
  // Format 2: the chain says the rest of the clock; an operation carries only what its device newly learnt.
  CHECK(ops[0].format == 2);
  CHECK(ops[0].clock.empty());
  CHECK(ops[1].clock.empty());
  CHECK(e.clock().get(e.device_id()) == 2);
}

TEST_CASE("an operation's deps name the chains that advanced since its device's previous one, once", "[capture]") {
  test::TempDir dir;
  test::Replica a(dir, "a", "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  test::Replica b(dir, "b", "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  test::Replica c(dir, "c", "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  a.sql("INSERT INTO t VALUES(1, 'a')");
  b.sql("INSERT INTO t VALUES(2, 'b'); INSERT INTO t VALUES(3, 'b')");
  c.sql("INSERT INTO t VALUES(4, 'c')");
  test::exchange(b, a, dir);
  a.sql("UPDATE t SET v = 'a2' WHERE id = 1; UPDATE t SET v = 'a3' WHERE id = 1");
  test::exchange(c, a, dir);
  a.sql("UPDATE t SET v = 'a4' WHERE id = 1");
  a.sql("UPDATE t SET v = 'a5' WHERE id = 1");
  std::vector<Operation> mine;
  for (const Operation& op : oldest_first(a.engine))
    if (op.origin == a.engine.device_id()) mine.push_back(op);
  REQUIRE(mine.size() == 5);
  const DeviceId bid = b.engine.device_id(), cid = c.engine.device_id();
  CHECK(mine[0].clock.empty());
  CHECK(mine[1].clock.entries() == std::vector<VectorClock::Entry>{{bid, 2}});
  CHECK(mine[2].clock.empty());
  CHECK(mine[3].clock.entries() == std::vector<VectorClock::Entry>{{cid, 1}});
  CHECK(mine[4].clock.empty());
  // Each Lamport time is one past everything its device held.
  for (std::size_t i = 1; i < mine.size(); ++i) CHECK(mine[i].lamport > mine[i - 1].lamport);
  test::exchange(a, c, dir);
  test::exchange(a, b, dir);
  CHECK(b.dump("t") == a.dump("t"));
  CHECK(c.dump("t") == a.dump("t"));
}
