// After an impostor won the first-use race: its bundle, claiming a device's id
// under a key of its own, was the first to bring that device, so trust on
// first use pinned its key and applied its operations. When the device's owner
// confirms the real key, `trust add --forget` removes what the impostor wrote
// under the device's numbers, rebuilds the rows it wrote from everyone else's
// operations, and lets the device's own operations in; every replica, whether
// it held the impostor's chain or not, ends with the same rows.
#include <catch2/catch.hpp>

#include "support/impostor.h"
#include "support/refusal.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

// A database that calls itself `victim`, with keys of its own.
struct Impostor {
  Replica replica;
  Engine as_victim;
  Impostor(const test::TempDir& dir, const Replica& victim)
      : replica(dir, "impostor", kSchema), as_victim(pose(replica, victim)) {}
  static Engine pose(const Replica& r, const Replica& victim) {
    test::pose_as(r.path, victim.engine.device_id());
    return Engine::open(r.path);
  }
  std::string bundle(const test::TempDir& dir) {
    ExportOptions all;
    all.all = true;
    const std::string path = dir.file("impostor.ferry");
    as_victim.export_bundle(path, all);
    return path;
  }
};

std::string bundle_of(Replica& from, const test::TempDir& dir, const std::string& name) {
  const std::string path = dir.file(name);
  test::export_all(from, path);
  return path;
}

// The rows below 100, "id|'name'" per line.
std::string items(const Replica& r) {
  auto db = test::app(r.path);
  auto st = db.prepare("SELECT id || '|' || quote(name) FROM items WHERE id < 100 ORDER BY id");
  std::string out;
  while (st.step()) out += st.text(0) + "\n";
  return out;
}

void same_everywhere(std::initializer_list<Replica*> replicas) {
  Replica& first = **replicas.begin();
  const Fingerprint f = first.engine.fingerprint();
  for (Replica* r : replicas) {
    INFO(r->name);
    CHECK(r->engine.verify().ok);
    CHECK(r->dump("items") == first.dump("items"));
    const Fingerprint g = r->engine.fingerprint();
    CHECK(g.operations == f.operations);
    CHECK(g.state == f.state);
    CHECK(r->engine.status().pending_operations == 0);
    CHECK(r->engine.conflicts().size() == first.engine.conflicts().size());
  }
}

}  // namespace

TEST_CASE("after an impostor's bundle pinned a device's key, trust add --forget lets the device's own operations in",
          "[trust][impostor]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema), fresh(dir, "fresh", kSchema);
  const std::string a_id = a.engine.device_id().to_string();

  // The impostor writes three operations as a; b takes them first (trust on first use).
  Impostor impostor(dir, a);
  impostor.replica.sql("INSERT INTO items VALUES(1, 'forged one'), (2, 'forged two')");
  impostor.replica.sql("UPDATE items SET name = 'forged again' WHERE id = 1");
  const auto pinned = b.engine.import_bundle(impostor.bundle(dir));
  REQUIRE(pinned.newly_trusted.size() == 1);
  // b builds on them (its operations' clocks name a's 1-3), and c receives all of it from b.
  b.sql("UPDATE items SET name = 'edited on b' WHERE id = 2");
  b.sql("INSERT INTO items VALUES(7, 'b''s own')");
  test::exchange(b, c, dir);

  // The real a writes four operations of its own, after it saw twenty of fresh's: their Lamport
  // times are greater than those of b's changes, which follow the impostor's by their clocks.
  fresh.sql("WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 119) "
            "INSERT INTO items SELECT i, 'filler' FROM n");
  test::exchange(fresh, a, dir);
  a.sql("INSERT INTO items VALUES(1, 'real one'), (2, 'real two')");
  a.sql("INSERT INTO items VALUES(5, 'real five')");
  a.sql("UPDATE items SET name = 'real five again' WHERE id = 5");
  const std::string genuine = bundle_of(a, dir, "a.ferry");
  const Error untrusted = test::expect_refusal(b, genuine, Errc::untrusted);
  CHECK_THAT(untrusted.what(), Catch::Contains("ferry trust " + b.path + " add " + a_id));

  SECTION("replacing the key alone is refused, saying what --forget would remove, and changes nothing") {
    const std::string before = items(b);
    try {
      b.engine.trust_add(a_id, a.engine.public_key());
      FAIL("replaced a key under which operations were admitted");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::refused);
      CHECK_THAT(e.what(), Catch::Contains("operations 1-3 of device " + a_id) && Catch::Contains("--forget") &&
                               Catch::Contains("Nothing was changed"));
    }
    CHECK(items(b) == before);
    (void)test::expect_refusal(b, genuine, Errc::untrusted);
  }

  SECTION("with --forget, the impostor's rows leave, b's own changes stay, and a's operations come in") {
    const TrustAdded r = b.engine.trust_add(a_id, a.engine.public_key(), "", /*forget_held=*/true);
    CHECK(r.replaced);
    CHECK(r.previous_fingerprint == pinned.newly_trusted[0].fingerprint);
    CHECK(r.forgotten == 3);
    CHECK(r.forgotten_up_to == 3);
    CHECK(r.rows == 2);
    CHECK(r.followers == 2);  // b's update of row 2 and its insert of row 7.
    // Row 1 was the impostor's alone; row 2 existed only by its insert (b changed a column of it).
    CHECK(items(b) == "7|'b''s own'\n");
    CHECK(b.engine.status().forks.empty());
    CHECK(b.engine.verify().ok);

    CHECK(b.engine.import_bundle(genuine).applied == 4 + 20);  // a's own, and fresh's it relays.
    // b's edit of row 2 follows a's 1-3 by its clock, so it wins over a's insert there, as on every replica.
    CHECK(items(b) == "1|'real one'\n2|'edited on b'\n5|'real five again'\n7|'b''s own'\n");
    CHECK(b.engine.status().forks.empty());

    // a takes b's operations: their clocks name a's 1-3, which a holds.
    test::exchange(b, a, dir);
    // c held the impostor's chain too: refused until it forgets it the same way.
    (void)test::expect_refusal(c, bundle_of(b, dir, "b.ferry"), Errc::untrusted);
    CHECK(c.engine.trust_add(a_id, a.engine.public_key(), "", true).forgotten == 3);
    test::exchange(b, c, dir);
    // A device that never saw the impostor receives b's operations and a's.
    test::exchange(b, fresh, dir);
    same_everywhere({&a, &b, &c, &fresh});
    CHECK(items(a) == "1|'real one'\n2|'edited on b'\n5|'real five again'\n7|'b''s own'\n");

    // Later changes travel as usual in every direction.
    a.sql("UPDATE items SET name = 'later on a' WHERE id = 2");
    c.sql("DELETE FROM items WHERE id = 7");
    test::exchange(a, b, dir);
    test::exchange(c, b, dir);
    for (Replica* to : {&a, &c, &fresh}) test::exchange(b, *to, dir);
    same_everywhere({&a, &b, &c, &fresh});
    CHECK(items(b) == "1|'real one'\n2|'later on a'\n5|'real five again'\n");
  }
}

TEST_CASE("an operation b follows by clock waits on a device that never held the forgotten chain until the real one "
          "reaches those numbers",
          "[trust][impostor]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), fresh(dir, "fresh", kSchema);
  const std::string a_id = a.engine.device_id().to_string();
  Impostor impostor(dir, a);
  impostor.replica.sql("INSERT INTO items VALUES(1, 'forged'); INSERT INTO items VALUES(2, 'forged')");
  (void)b.engine.import_bundle(impostor.bundle(dir));
  b.sql("INSERT INTO items VALUES(7, 'b''s own')");  // Its clock names a's 1-2.
  (void)b.engine.trust_add(a_id, a.engine.public_key(), "", true);

  a.sql("INSERT INTO items VALUES(1, 'real')");  // Only operation 1 of a so far.
  test::exchange(a, b, dir);
  const auto waiting = test::exchange(b, fresh, dir);
  CHECK(waiting.pending == 1);
  CHECK(items(fresh) == "1|'real'\n");
  a.sql("INSERT INTO items VALUES(3, 'real')");
  test::exchange(a, b, dir);
  test::exchange(b, fresh, dir);
  test::exchange(b, a, dir);
  same_everywhere({&a, &b, &fresh});
  CHECK(items(a) == "1|'real'\n3|'real'\n7|'b''s own'\n");
}

// Found by the convergence property (FERRY_SEED=757630477). After a chain is
// forgotten, b's delete, made when it held the impostor's operation 1 of a,
// follows a's own operation 1 by its clock, an update that b's delete never
// saw. Applied in either order, the name's frontier ends as b's delete alone,
// while fresh's later insert keeps the row: the name holds its DEFAULT on
// every replica, not whatever the last write there happened to leave.
TEST_CASE("a column whose winner is a delete, in a row an insert keeps, holds its default whatever the order",
          "[trust][impostor][merge]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), fresh(dir, "fresh", kSchema);
  const std::string a_id = a.engine.device_id().to_string();
  Impostor impostor(dir, a);
  impostor.replica.sql("INSERT INTO items VALUES(99, 'forged')");
  (void)b.engine.import_bundle(impostor.bundle(dir));
  b.sql("INSERT INTO items VALUES(1, 'b')");
  b.sql("DELETE FROM items WHERE id = 1");  // Lamport time 3; its clock names a's 1.
  for (int i = 50; i < 54; ++i) fresh.sql("INSERT INTO items VALUES(" + std::to_string(i) + ", 'filler')");
  fresh.sql("INSERT INTO items VALUES(1, 'fresh')");  // Lamport time 5: wins the row's existence.
  test::exchange(fresh, a, dir);
  a.sql("UPDATE items SET name = 'a' WHERE id = 1");  // a's own operation 1, after fresh's insert.
  (void)b.engine.trust_add(a_id, a.engine.public_key(), "", /*forget_held=*/true);

  test::exchange(fresh, b, dir);  // b: its delete, fresh's insert, then a's update, late.
  test::exchange(a, b, dir);
  test::exchange(b, fresh, dir);  // fresh and a: the update, then b's delete.
  test::exchange(b, a, dir);
  same_everywhere({&a, &b, &fresh});
  CHECK(items(a) == "1|NULL\n50|'filler'\n51|'filler'\n52|'filler'\n53|'filler'\n");
}
