// Relays: a device passes on other devices' chains it holds, each up to a head
// its origin signed, so that bundles may travel through any carrier
// (bundle_format/README.md §4, "Which operations go out").
#include <catch2/catch.hpp>

#include "support/support.h"

using namespace ferry;
using test::exchange;
using test::Replica;

namespace {
const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, photo BLOB);";
}

TEST_CASE("a relay passes on a chain that waits there for a third device, up to the head its origin signed",
          "[import][relay]") {
  // Carriers in a ring: c's change reaches a, a builds on it, and a's bundle to b
  // leaves c's change out. b cannot apply a's operations yet; d gets a's chain only
  // through b, and c's change straight from c. Were b to keep a's chain until it
  // could apply it, d would wait for a's operations for ever.
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema), d(dir, "d", kSchema);
  c.sql("INSERT INTO items(id, name) VALUES(1, 'from c')");
  exchange(c, a, dir);
  a.sql("UPDATE items SET name = 'a builds on c' WHERE id = 1; INSERT INTO items(id, name) VALUES(2, 'from a')");
  ExportOptions without_c;
  VectorClock has_c;
  has_c.set(c.engine.device_id(), 1);
  without_c.since = has_c;
  a.engine.export_bundle(dir.file("a-to-b.ferry"), without_c);
  CHECK(b.engine.import_bundle(dir.file("a-to-b.ferry")).pending == 2);

  ExportOptions all;
  all.all = true;
  const auto relayed = b.engine.export_bundle(dir.file("b-to-d.ferry"), all);
  CHECK(relayed.operations == 2);  // a's two, from b's pending operations.
  CHECK(verify_bundle(dir.file("b-to-d.ferry")).ok);
  CHECK(d.engine.import_bundle(dir.file("b-to-d.ferry")).pending == 2);
  const auto from_c = exchange(c, d, dir);
  CHECK(from_c.applied == 3);  // c's own, then a's two, which waited for it.
  CHECK(d.dump("items") == a.dump("items"));
  CHECK(d.engine.status().pending_operations == 0);
  CHECK(d.engine.verify().ok);
}

TEST_CASE("a relay passes on the part of a waiting chain its peer lacks, from inside that chain", "[import][relay]") {
  // As above, but d already holds a's first operation: b's bundle for d starts at a's second, which waits at b
  // (pending) with the first, and must follow the first's hash, which only b's pending set holds.
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema), d(dir, "d", kSchema);
  c.sql("INSERT INTO items(id, name) VALUES(1, 'from c')");
  exchange(c, a, dir);
  exchange(c, d, dir);
  a.sql("UPDATE items SET name = 'a builds on c' WHERE id = 1");
  exchange(a, d, dir);  // d holds a's first operation.
  a.sql("INSERT INTO items(id, name) VALUES(2, 'from a')");
  ExportOptions without_c;
  VectorClock has_c;
  has_c.set(c.engine.device_id(), 1);
  without_c.since = has_c;
  a.engine.export_bundle(dir.file("a-to-b.ferry"), without_c);
  CHECK(b.engine.import_bundle(dir.file("a-to-b.ferry")).pending == 2);
  ExportOptions for_d;
  VectorClock d_has = d.engine.clock();
  for_d.since = d_has;
  const auto relayed = b.engine.export_bundle(dir.file("b-to-d.ferry"), for_d);
  CHECK(relayed.operations == 1);  // a's second only.
  CHECK(verify_bundle(dir.file("b-to-d.ferry")).ok);
  CHECK(d.engine.import_bundle(dir.file("b-to-d.ferry")).applied == 1);
  CHECK(d.dump("items") == a.dump("items"));
  CHECK(d.engine.verify().ok);
}
