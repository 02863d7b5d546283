// A restored or copied database whose device writes scoped tables (bundle_format/format4.md
// §12.9): its chains of a scope are checked for reuse as its own chain is, and `reidentify`
// makes what never left of them again under the new identity's chains.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "log/chain.h"
#include "support/support.h"
#include "trust/keys.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE visits(id INTEGER PRIMARY KEY, note TEXT, clinic INTEGER)";


}  // namespace

TEST_CASE("a restored device that wrote only in a scope is found out by its chain of that scope, and a new identity "
          "loses nothing", "[identity][scope]") {
  test::TempDir dir;
  Replica a{dir, "a", kSchema}, b{dir, "b", kSchema};
  for (Replica* r : {&a, &b}) r->engine.track("visits", "clinic");
  a.sql("INSERT INTO visits VALUES(1, 'before the backup', 7)");
  (void)test::exchange(a, b, dir);
  (void)test::exchange(b, a, dir);
  Engine restored = test::copy_device(a, dir.file("restored.db"));
  a.sql("INSERT INTO visits VALUES(2, 'after the backup', 7)");  // Operation 2 of a's chain of 7...
  (void)test::exchange(a, b, dir);
  test::exec(restored.path(), "INSERT INTO visits VALUES(3, 'after the restore', 7)");
  CHECK(restored.seal() == 1);  // ...and another operation 2 of it here. a's own chain did not move.

  const std::string from_b = test::export_for(b.engine, a.engine.device_id(), dir.file("from-b.ferry"));
  try {
    (void)restored.import_bundle(from_b);
    FAIL("the bundle was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("of this device's chain of scope '7' differs") &&
                             Catch::Contains("ferry reidentify"));
  }

  const Reidentified r = restored.reidentify();
  CHECK(r.reissued == 1);
  CHECK(restored.verify().ok);
  const DeviceId old_seven = log::chain_id(r.previous, "7"), new_seven = log::chain_id(r.device, "7");
  CHECK(restored.clock().get(old_seven) == 1);  // Where it is shared: what left before the backup.
  CHECK(restored.clock().get(new_seven) == 1);  // What never left, made again.
  (void)restored.import_bundle(from_b);
  ExportOptions all;
  all.all = true;
  restored.export_bundle(dir.file("from-restored.ferry"), all);
  for (Replica* r2 : {&a, &b}) (void)r2->engine.import_bundle(dir.file("from-restored.ferry"));
  (void)test::exchange(a, b, dir);
  (void)test::exchange(b, a, dir);
  const std::string rows = test::dump(restored.path(), "visits");
  CHECK(rows == "1|'before the backup'|7\n2|'after the backup'|7\n3|'after the restore'|7\n");
  CHECK(a.dump("visits") == rows);
  CHECK(b.dump("visits") == rows);
  CHECK(a.engine.verify().ok);
  CHECK(b.engine.verify().ok);
}

TEST_CASE("a fork in a device's chain of a scope is evidence against that device, named with its scope",
          "[identity][scope][trust]") {
  test::TempDir dir;
  Replica a{dir, "a", kSchema}, b{dir, "b", kSchema};
  for (Replica* r : {&a, &b}) r->engine.track("visits", "clinic");
  Engine copy = test::copy_device(a, dir.file("copy.db"));
  a.sql("INSERT INTO visits VALUES(1, 'on a', 7)");
  test::exec(copy.path(), "INSERT INTO visits VALUES(1, 'on the copy', 7)");  // Operation 1 of a's chain of 7, twice.
  (void)test::exchange(a, b, dir);
  ExportOptions all;
  all.all = true;
  copy.export_bundle(dir.file("copy.ferry"), all);
  CHECK_THROWS_AS(b.engine.import_bundle(dir.file("copy.ferry")), Error);
  const StatusReport s = b.engine.status();
  REQUIRE(s.forks.size() == 1);
  CHECK(s.forks[0].device == a.engine.device_id());
  CHECK(s.forks[0].scope == "7");
  CHECK(s.forks[0].seq == 1);
  bool flagged = false;
  for (const PeerInfo& p : s.peers)
    if (p.id == a.engine.device_id()) flagged = p.forked;
  CHECK(flagged);
}
