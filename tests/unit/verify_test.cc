// verify: any edit made to the log behind ferry's back is found, and the
// report names the first operation that does not verify.
#include <catch2/catch.hpp>

#include "log/codec.h"
#include "support/support.h"

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

  std::string body(int seq) {
    auto db = test::app(path);
    auto st = db.prepare("SELECT body FROM ferry_log WHERE seq=?");
    st.bind(1, static_cast<std::int64_t>(seq));
    REQUIRE(st.step());
    const Bytes b = st.blob(0);
    return std::string(b.begin(), b.end());
  }

  void set(int seq, const std::string& body, const Hash& hash) {
    auto db = test::app(path);
    auto st = db.prepare("UPDATE ferry_log SET body=?, hash=? WHERE seq=?");
    st.bind_blob(1, body.data(), body.size()).bind_blob(2, hash.data(), hash.size()).bind(3, static_cast<std::int64_t>(seq));
    st.run();
  }

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
    auto db = test::app(f.path);
    auto st = db.prepare("UPDATE ferry_log SET body=? WHERE seq=2");
    st.bind_blob(1, b.data(), b.size());
    st.run();
    expected = "operation 2";
  }
  SECTION("an operation edited and re-hashed") {
    Operation op = log::decode(f.body(2), "t");
    op.columns[0].value = Value::text("forged");
    const std::string b = log::encode(op);
    f.set(2, b, log::hash_of(b));
    expected = "operation 3";  // Its successor no longer links to it.
  }
  SECTION("the hash column edited") {
    test::exec(f.path, "UPDATE ferry_log SET hash=zeroblob(32) WHERE seq=3");
    expected = "operation 3";
  }
  SECTION("an operation deleted from the middle") {
    test::exec(f.path, "DELETE FROM ferry_log WHERE seq=2");
    expected = "expected operation 2";
  }
  SECTION("the last operation deleted") {
    test::exec(f.path, "DELETE FROM ferry_log WHERE seq=4");
    expected = "log ends at operation 3";
  }
  SECTION("two operations swapped") {
    const std::string b2 = f.body(2), b3 = f.body(3);
    f.set(2, b3, log::hash_of(b3));
    f.set(3, b2, log::hash_of(b2));
    expected = "operation 2";
  }
  SECTION("an operation appended by hand") {
    Operation op = log::decode(f.body(4), "t");
    op.seq = 5;
    op.clock.set(op.origin, 5);
    op.prev_hash = log::hash_of(f.body(4));
    const std::string b = log::encode(op);
    const Hash h = log::hash_of(b);
    auto db = test::app(f.path);
    auto st = db.prepare("INSERT INTO ferry_log(origin, seq, hash, body) VALUES(?, 5, ?, ?)");
    st.bind_blob(1, op.origin.bytes.data(), 16).bind_blob(2, h.data(), 32).bind_blob(3, b.data(), b.size());
    st.run();
    expected = "log ends at operation 5";
  }
  SECTION("a sequence number changed") {
    test::exec(f.path, "UPDATE ferry_log SET seq=10 WHERE seq=4");
    expected = "expected operation 4";
  }
  SECTION("a column given the wrong type") {
    test::exec(f.path, "UPDATE ferry_log SET body='text' WHERE seq=1");
    expected = "wrong type";
  }
  const auto r = f.verify();
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.first_failure, Catch::Contains(expected));
}
