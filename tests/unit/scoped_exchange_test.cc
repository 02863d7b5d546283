// Scoped tables through bundles (bundle_format/format4.md §12, step 2: every
// device still reads every scope): a table tracked with a scope expression
// (which may be given until the table has operations)
// travels in 4.2 bundles, each chain of a scope named by its device and
// scope and signed by its device; rows moved between scopes converge;
// devices must track the table alike; and a fleet's grants decide which
// scopes a member may write.
#include <catch2/catch.hpp>

#include "ferry/error.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* const kSchema = test::kClinicSchema;

void track(Replica& r) { test::track_clinic_tables(r); }

}  // namespace

TEST_CASE("rows of a scoped table travel in 4.2 bundles, named by device and scope, and converge when they move",
          "[scope][exchange]") {
  test::TempDir dir;
  Replica office(dir, "office", kSchema), clinic(dir, "clinic", kSchema);
  track(office);
  track(clinic);
  office.sql("INSERT INTO visits VALUES(1, 'first', 7), (2, 'second', 8); INSERT INTO drugs VALUES(1, 'aspirin')");
  clinic.sql("INSERT INTO visits VALUES(3, 'walk-in', 7)");

  const std::string path = dir.file("office.ferry");
  test::export_all(office, path);
  const BundleInfo info = inspect_bundle(path);
  CHECK(info.format_major == 4);
  CHECK(info.format_minor == 2);
  REQUIRE(info.scoped_chains.size() == 2);  // Office's chains of clinics 7 and 8, signed with office's key.
  for (const auto& c : info.scoped_chains) {
    CHECK(c.device == office.engine.device_id());
    CHECK((c.scope == "7" || c.scope == "8"));
  }
  for (const auto& t : info.tables) CHECK(t.scope == (t.name == "visits" ? "clinic" : ""));
  CHECK(verify_bundle(path).ok);
  CHECK(clinic.engine.import_bundle(path).applied == 3);
  test::exchange(clinic, office, dir);
  CHECK(office.dump("visits") == clinic.dump("visits"));
  CHECK(office.dump("visits") == "1|'first'|7\n2|'second'|8\n3|'walk-in'|7\n");

  // The clinic refers visit 1 to clinic 8, while the office edits it in clinic 7: the move wins,
  // being the only state in which the row still exists.
  clinic.sql("UPDATE visits SET clinic = 8 WHERE id = 1");
  office.sql("UPDATE visits SET note = 'edited' WHERE id = 1");
  test::exchange(clinic, office, dir);
  test::exchange(office, clinic, dir);
  CHECK(office.dump("visits") == clinic.dump("visits"));
  CHECK(office.dump("visits") == "1|'first'|8\n2|'second'|8\n3|'walk-in'|7\n");
  CHECK(office.engine.verify().ok);
  CHECK(clinic.engine.verify().ok);
  // A device's chains of a scope are not peers; they are listed as its own.
  CHECK(office.engine.peers().size() == 2);
  for (Replica* r : {&office, &clinic}) {  // Each holds both devices' chains of clinics 7 and 8.
    const auto chains = r->engine.scoped_chains();
    CHECK(chains.size() == 4);
    for (const auto& c : chains)
      CHECK((c.device == office.engine.device_id() || c.device == clinic.engine.device_id()));
  }
}

TEST_CASE("a bundle whose table is scoped otherwise than here is refused, by name, changing nothing",
          "[scope][exchange]") {
  test::TempDir dir;
  Replica office(dir, "office", kSchema), shared(dir, "shared", kSchema);
  track(office);
  shared.engine.track("visits");
  shared.engine.track("drugs");
  office.sql("INSERT INTO visits VALUES(1, 'first', 7)");
  const std::string path = dir.file("office.ferry");
  test::export_all(office, path);
  try {
    (void)shared.engine.import_bundle(path);
    FAIL("imported");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("table 'visits' is scoped by clinic on the device that wrote the bundle, but "
                                         "shared in"));
  }
  CHECK(shared.dump("visits").empty());
  // A table's scope never changes once tracked.
  CHECK_THROWS_WITH(office.engine.track("visits", "note"), Catch::Contains("a table's scope never changes"));
  shared.sql("INSERT INTO visits VALUES(5, 'here', 1)");
  CHECK_THROWS_WITH(shared.engine.track("visits", "clinic"), Catch::Contains("tracked without a scope"));
  CHECK_THROWS_WITH(office.engine.track("drugs", "random()"), Catch::Contains("non-deterministic"));
}

TEST_CASE("a fleet member writes only the scopes its grant lists, and the rest, a move into another included, is held",
          "[scope][exchange][fleet]") {
  test::TempDir dir;
  Replica hq(dir, "hq", kSchema), clinic(dir, "clinic", kSchema);
  track(hq);
  track(clinic);
  hq.engine.fleet_init();
  clinic.engine.fleet_join(hq.engine.device_id().to_string(), hq.engine.public_key(), "hq");
  GrantInfo seven;
  seven.write = {"7"};
  hq.engine.grant(clinic.engine.device_id().to_string(), seven);
  test::exchange(hq, clinic, dir);

  clinic.sql("INSERT INTO visits VALUES(1, 'ours', 7), (2, 'not ours', 8)");
  const auto held = clinic.engine.status().held;
  REQUIRE(held.size() == 1);
  CHECK_THAT(held[0].reason, Catch::Contains("does not let it write scope '8'"));
  CHECK(test::exchange(clinic, hq, dir).applied == 1);
  CHECK(hq.dump("visits") == "1|'ours'|7\n");
  // A move into a scope it may not write is held whole: neither half leaves.
  clinic.sql("UPDATE visits SET clinic = 9 WHERE id = 1");
  CHECK(clinic.engine.status().held.size() == 2);
  CHECK(test::exchange(clinic, hq, dir).applied == 0);
}
