// verify: any edit made to the log behind ferry's back is found, and the
// report names the first operation that does not verify.
#include <catch2/catch.hpp>
#include <filesystem>

#include "log/codec.h"
#include "log/store.h"
#include "support/support.h"
#include "util/uuid.h"

using namespace ferry;

namespace {

struct Fixture {
  test::TempDir dir;
  std::string path = dir.file("app.db");
  DeviceId self;

  Fixture() {
    test::exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    auto e = Engine::init(path, "laptop");
    self = e.device_id();
    e.track("t");
    test::exec(path, "INSERT INTO t VALUES(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')");
    REQUIRE(e.verify().ok);
    // What someone editing the file by hand would do first.
    test::exec(path, "DROP TRIGGER ferry_log_append_only_update; DROP TRIGGER ferry_log_append_only_delete");
  }

  // The log row of operation `seq` of this (the only) device: its id packs the
  // device's local number with the sequence number (log/store.h).
  static std::int64_t id(int seq) { return log::log_id(1, static_cast<std::uint64_t>(seq)); }

  std::string body(int seq) {
    auto db = test::app(path);
    auto st = db.prepare("SELECT body FROM ferry_log WHERE id=?");
    st.bind(1, id(seq));
    REQUIRE(st.step());
    const Bytes b = st.blob(0);
    return std::string(b.begin(), b.end());
  }

  void set(int seq, const std::string& body) {
    auto db = test::app(path);
    auto st = db.prepare("UPDATE ferry_log SET body=? WHERE id=?");
    st.bind_blob(1, body.data(), body.size()).bind(2, id(seq));
    st.run();
  }

  void exec(const std::string& sql_with_ids) { test::exec(path, sql_with_ids); }

  VerifyReport verify() { return Engine::open(path).verify(); }
};

}  // namespace

TEST_CASE("verify passes on an untouched log", "[log][verify]") {
  Fixture f;
  const auto r = f.verify();
  CHECK(r.ok);
  CHECK(r.operations == 4);
  CHECK(r.devices == 1);
}

TEST_CASE("verify detects each kind of tampering and names the operation", "[log][verify]") {
  Fixture f;
  std::string expected;
  SECTION("a value edited in place") {
    std::string b = f.body(2);
    b[b.size() - 40] ^= 1;
    f.set(2, b);
    expected = "operation 2";
  }
  SECTION("an operation edited so that it still decodes") {
    Operation op = log::decode(f.body(2), "t", 2);
    op.columns[0].value = Value::text("forged");
    f.set(2, log::encode(op));
    expected = "operation 2 of device";  // Operation 3 no longer links to it.
  }
  SECTION("the last operation edited") {
    Operation op = log::decode(f.body(4), "t", 2);
    op.columns[0].value = Value::text("forged");
    f.set(4, log::encode(op));
    expected = "operation 4 of device";  // No successor: the recorded head catches it.
  }
  SECTION("the first operation replaced") {
    Operation op = log::decode(f.body(1), "t", 2);
    op.prev_hash[0] ^= 1;
    f.set(1, log::encode(op));
    expected = "operation 1 of device";
  }
  SECTION("an operation deleted from the middle") {
    f.exec("DELETE FROM ferry_log WHERE id=" + std::to_string(Fixture::id(2)));
    expected = "expected operation 2";
  }
  SECTION("the last operation deleted") {
    f.exec("DELETE FROM ferry_log WHERE id=" + std::to_string(Fixture::id(4)));
    expected = "log ends at operation 3";
  }
  SECTION("two operations swapped") {
    const std::string b2 = f.body(2), b3 = f.body(3);
    f.set(2, b3);
    f.set(3, b2);
    expected = "operation 2";
  }
  SECTION("an operation appended by hand") {
    Operation op = log::decode(f.body(4), "t", 2);
    op.seq = 5;
    op.id = util::make_operation_id(op.id.unix_ms(), op.origin, 5);  // Format 2: the id follows from the seq.
    op.prev_hash = log::hash_of(f.body(4));
    const std::string b = log::encode(op);
    auto db = test::app(f.path);
    auto st = db.prepare("INSERT INTO ferry_log(id, body) VALUES(?, ?)");
    st.bind(1, Fixture::id(5)).bind_blob(2, b.data(), b.size());
    st.run();
    expected = "log ends at operation 5";
  }
  SECTION("a row renumbered") {
    f.exec("UPDATE ferry_log SET id=" + std::to_string(Fixture::id(10)) + " WHERE id=" + std::to_string(Fixture::id(4)));
    expected = "expected operation 4";
  }
  SECTION("a row moved to a device that does not exist") {
    f.exec("UPDATE ferry_log SET id=4 WHERE id=" + std::to_string(Fixture::id(4)));  // Device number 0.
    expected = "belongs to no known device";
  }
  SECTION("a column given the wrong type") {
    f.exec("UPDATE ferry_log SET body='text' WHERE id=" + std::to_string(Fixture::id(1)));
    expected = "wrong type";
  }
  const auto r = f.verify();
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.first_failure, Catch::Contains(expected));
}

TEST_CASE("verify finds a causal index that disagrees with what the operations say they had seen", "[log][verify]") {
  test::TempDir dir;
  const char* schema = "CREATE TABLE t(id INTEGER PRIMARY KEY, v)";
  test::Replica a(dir, "a", schema), b(dir, "b", schema);
  // The row b's clock grows by sits at b's first operation, checked entry by entry, or
  // at a later one, checked against what grew since the one before.
  const bool b_wrote_first = GENERATE(false, true);
  INFO("b wrote before it heard from a: " << b_wrote_first);
  if (b_wrote_first) b.sql("INSERT INTO t VALUES(9, 'b')");
  a.sql("INSERT INTO t VALUES(1, 'a')");
  (void)test::exchange(a, b, dir);
  b.sql("UPDATE t SET v = 'b'; INSERT INTO t VALUES(2, 'b')");  // b's operations have seen a's.
  (void)b.engine.seal();
  REQUIRE(b.engine.verify().ok);
  REQUIRE(test::count(b.path, "SELECT count(*) FROM ferry_deps") == 1);
  std::string expected;
  SECTION("a row changed") {
    test::exec(b.path, "UPDATE ferry_deps SET dep_seq = dep_seq + 1");
    expected = "the causal index says it had seen operation 2 of device";
  }
  SECTION("a row deleted") {
    test::exec(b.path, "DELETE FROM ferry_deps");
    expected = "the causal index says it had seen operation 0 of device";
  }
  SECTION("a row added that no operation accounts for") {
    test::exec(b.path, "INSERT INTO ferry_deps SELECT dep, chain, 1, 1 FROM ferry_deps");  // a had seen b? It had not.
    // a's first operation (format 2) carries no deps: the row at it is one its content does not give.
    expected = "the causal index says it had seen operation 1 of device number";
  }
  const auto r = b.engine.verify();
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.first_failure, Catch::Contains(expected) && Catch::Contains("ferry_deps was edited behind ferry's back"));
}

TEST_CASE("export refuses a log changed behind ferry's back and writes no bundle", "[log][verify][export]") {
  Fixture f;
  Operation op = log::decode(f.body(2), "t", 2);
  op.columns[0].value = Value::text("forged");
  f.set(2, log::encode(op));
  const std::string target = f.dir.file("out.ferry");
  ExportOptions all;
  all.all = true;
  CHECK_THROWS_WITH(Engine::open(f.path).export_bundle(target, all),
                    Catch::Contains("operation 3 of device") && Catch::Contains("changed behind ferry's back") &&
                        Catch::Contains("No bundle was written"));
  CHECK_FALSE(std::filesystem::exists(target));
}

TEST_CASE("a snapshot export refuses a log missing an operation the state depends on", "[log][verify][export]") {
  Fixture f;
  f.exec("DELETE FROM ferry_log WHERE id=" + std::to_string(Fixture::id(2)));  // Row 2's only write.
  const std::string target = f.dir.file("snapshot.ferry");
  ExportOptions snapshot;
  snapshot.snapshot = true;
  CHECK_THROWS_WITH(Engine::open(f.path).export_bundle(target, snapshot),
                    Catch::Contains("operation 2 of device") && Catch::Contains("the log does not hold") &&
                        Catch::Contains("No bundle was written"));
  CHECK_FALSE(std::filesystem::exists(target));
}
