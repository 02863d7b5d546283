// Reading by grant (bundle_format/format4.md §12.4): a bundle for a fleet
// member carries the shared scope and the scopes its grant lets it read --
// not one byte of another -- and a member that may no longer read a scope
// loses it at its next import, except what it wrote itself and no peer holds yet.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ferry/error.h"
#include "log/chain.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* const kSchema = test::kClinicSchema;

// A head office administering a fleet, and one clinic in it, both tracking
// visits by clinic and drugs shared; the clinic granted `grant`.
struct Fleet {
  test::TempDir dir;
  Replica hq{dir, "hq", kSchema}, clinic{dir, "clinic", kSchema};
  explicit Fleet(const GrantInfo& grant) {
    for (Replica* r : {&hq, &clinic}) test::track_clinic_tables(*r);
    hq.engine.fleet_init();
    clinic.engine.fleet_join(hq.engine.device_id().to_string(), hq.engine.public_key(), "hq");
    regrant(grant);
  }
  void regrant(const GrantInfo& grant) { hq.engine.grant(clinic.engine.device_id().to_string(), grant); }
  std::string bundle_for_clinic(const std::string& name) {
    ExportOptions o;
    o.peer = clinic.engine.device_id().to_string();
    const std::string path = dir.file(name);
    hq.engine.export_bundle(path, o);
    return path;
  }
};

GrantInfo writes(std::vector<std::string> scopes) {
  GrantInfo g;
  g.write = std::move(scopes);
  return g;
}

std::string text_of(const std::string& path) {
  const auto bytes = test::read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("a bundle for a fleet member carries the shared scope and the scopes it may read, not one byte of another",
          "[scope][fleet][security]") {
  GrantInfo seven;
  seven.read = {"7"};
  Fleet f(seven);
  f.hq.sql("INSERT INTO visits VALUES(1, 'canary-seven-x7Q', 7), (2, 'canary-eight-x7Q', 8);"
           "INSERT INTO drugs VALUES(1, 'canary-shared-x7Q')");
  const std::string path = f.bundle_for_clinic("for-clinic.ferry");

  const std::string text = text_of(path);
  CHECK(text.find("canary-seven-x7Q") != std::string::npos);  // What it carries is readable in the bytes...
  CHECK(text.find("canary-shared-x7Q") != std::string::npos);
  CHECK(text.find("canary-eight-x7Q") == std::string::npos);  // ...and scope 8 is not there.
  const DeviceId eight = log::chain_id(f.hq.engine.device_id(), "8");
  CHECK(text.find(std::string(reinterpret_cast<const char*>(eight.bytes.data()), 16)) == std::string::npos);
  const BundleInfo info = inspect_bundle(path);
  for (const auto& c : info.scoped_chains) CHECK(c.scope == "7");
  CHECK(info.clock.get(eight) == 0);

  CHECK(f.clinic.engine.import_bundle(path).removed_scopes.empty());
  CHECK(f.clinic.dump("visits") == "1|'canary-seven-x7Q'|7\n");
  CHECK(f.clinic.dump("drugs") == "1|'canary-shared-x7Q'\n");

  // A backup of the administrator's own view (--all, for nobody) holds everything.
  const std::string backup = f.dir.file("backup.ferry");
  test::export_all(f.hq, backup);
  CHECK(text_of(backup).find("canary-eight-x7Q") != std::string::npos);
}

TEST_CASE("the data a grant opens arrives in the same bundle as the grant", "[scope][fleet]") {
  Fleet f(GrantInfo{});
  f.hq.sql("INSERT INTO visits VALUES(1, 'a', 7), (2, 'b', 8)");
  CHECK(f.clinic.engine.import_bundle(f.bundle_for_clinic("1.ferry")).applied > 0);
  CHECK(f.clinic.dump("visits").empty());  // No grant to read 7 yet: nothing of it came.
  f.regrant(writes({"7"}));  // Writing a scope includes reading it.
  const ImportSummary s = f.clinic.engine.import_bundle(f.bundle_for_clinic("2.ferry"));
  CHECK(s.removed_scopes.empty());
  CHECK(f.clinic.dump("visits") == "1|'a'|7\n");
}

TEST_CASE("a member that may no longer read a scope loses its rows and operations at its next import",
          "[scope][fleet]") {
  Fleet f(writes({"7", "8"}));
  f.hq.sql("INSERT INTO visits VALUES(1, 'a', 7), (2, 'b', 8), (3, 'c', 8); INSERT INTO drugs VALUES(1, 'aspirin')");
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("1.ferry"));
  f.clinic.sql("UPDATE visits SET note = 'seen' WHERE id = 2");  // The clinic's own operation in 8...
  (void)test::exchange(f.clinic, f.hq, f.dir);                    // ...which reaches the head office.
  const std::size_t held_before = f.clinic.engine.status().operations;

  f.regrant(writes({"7"}));
  f.hq.sql("INSERT INTO visits VALUES(4, 'd', 8)");
  const std::string path = f.bundle_for_clinic("2.ferry");
  CHECK(text_of(path).find("'d'") == std::string::npos);
  const ImportSummary s = f.clinic.engine.import_bundle(path);
  REQUIRE(s.removed_scopes.size() == 1);
  CHECK(s.removed_scopes[0].scope == "8");
  CHECK(s.removed_scopes[0].rows == 2);
  CHECK(s.removed_scopes[0].operations == 3);  // The office's two inserts and the clinic's update.
  CHECK(s.removed_scopes[0].unsent == 0);
  CHECK(f.clinic.dump("visits") == "1|'a'|7\n");
  CHECK(f.clinic.dump("drugs") == "1|'aspirin'\n");
  const StatusReport status = f.clinic.engine.status();
  CHECK(status.operations == held_before + 1 - 3);  // The grant came; scope 8 went.
  REQUIRE(status.scopes.size() == 1);
  CHECK(status.scopes[0].scope == "7");
  CHECK(status.scopes[0].reads);
  CHECK(status.scopes[0].operations == 1);
  CHECK(f.clinic.engine.verify().ok);
  CHECK(f.hq.dump("visits") == "1|'a'|7\n2|'seen'|8\n3|'c'|8\n4|'d'|8\n");  // It stays everywhere else.

  // What the clinic writes in 8 now is held, as any write outside its grant.
  f.clinic.sql("INSERT INTO visits VALUES(5, 'e', 8)");
  CHECK(f.clinic.engine.status().held.size() == 1);
  // A later import finds nothing more to remove.
  CHECK(f.clinic.engine.import_bundle(f.bundle_for_clinic("3.ferry")).removed_scopes.empty());
}

TEST_CASE("a scope with operations of the member's own that no peer holds yet is kept until one does",
          "[scope][fleet]") {
  Fleet f(writes({"7", "8"}));
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("1.ferry"));
  f.clinic.sql("INSERT INTO visits VALUES(1, 'only here', 8)");  // Sealed while the grant allowed it.
  f.clinic.engine.seal();
  f.regrant(writes({"7"}));
  ImportSummary s = f.clinic.engine.import_bundle(f.bundle_for_clinic("2.ferry"));
  REQUIRE(s.removed_scopes.size() == 1);
  CHECK(s.removed_scopes[0].unsent == 1);
  CHECK(s.removed_scopes[0].rows == 0);
  CHECK(f.clinic.dump("visits") == "1|'only here'|8\n");  // Nothing lost.

  (void)test::exchange(f.clinic, f.hq, f.dir);  // Written under the grant it held then: allowed.
  CHECK(f.hq.dump("visits") == "1|'only here'|8\n");
  s = f.clinic.engine.import_bundle(f.bundle_for_clinic("3.ferry"));  // The office now holds it, and says so.
  REQUIRE(s.removed_scopes.size() == 1);
  CHECK(s.removed_scopes[0].unsent == 0);
  CHECK(s.removed_scopes[0].rows == 1);
  CHECK(f.clinic.dump("visits").empty());
}

TEST_CASE("a member read back into a scope it lost writes there only once its own operations are back",
          "[scope][fleet]") {
  Fleet f(writes({"8"}));
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("1.ferry"));
  f.clinic.sql("INSERT INTO visits VALUES(1, 'first', 8), (3, 'third', 8)");  // Operations 1 and 2 of its chain of 8.
  (void)test::exchange(f.clinic, f.hq, f.dir);
  f.regrant(writes({}));
  CHECK(f.clinic.engine.import_bundle(f.bundle_for_clinic("2.ferry")).removed_scopes.size() == 1);
  CHECK(f.clinic.dump("visits").empty());

  f.regrant(writes({"8"}));
  // The bundle carries its newest operation there back (a receipt), which waits for the one before it.
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("3.ferry"));
  f.clinic.sql("INSERT INTO visits VALUES(2, 'second', 8)");
  const auto held = f.clinic.engine.status().held;
  REQUIRE(held.size() == 1);  // Another operation 1 of its chain of 8 would fork it.
  CHECK_THAT(held[0].reason, Catch::Contains("were removed when it lost the grant to read it"));

  ExportOptions all;  // What the message says to do.
  all.peer = f.clinic.engine.device_id().to_string();
  all.all = true;
  const std::string path = f.dir.file("all.ferry");
  f.hq.engine.export_bundle(path, all);
  (void)f.clinic.engine.import_bundle(path);
  f.clinic.engine.seal();
  CHECK(f.clinic.engine.status().held.empty());
  (void)test::exchange(f.clinic, f.hq, f.dir);
  CHECK(f.hq.dump("visits") == "1|'first'|8\n2|'second'|8\n3|'third'|8\n");
  CHECK(f.clinic.dump("visits") == f.hq.dump("visits"));
  CHECK(f.hq.engine.verify().ok);
}

TEST_CASE("operations of a scope a member may not read, in a bundle for everyone, are left out and said so",
          "[scope][fleet][security]") {
  Fleet f(writes({"7"}));
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("1.ferry"));
  f.hq.sql("INSERT INTO visits VALUES(1, 'a', 7), (2, 'canary-eight-x7Q', 8), (3, 'c', 8)");
  const std::string backup = f.dir.file("backup.ferry");
  test::export_all(f.hq, backup);  // Not written for the clinic: every scope.
  const ImportSummary s = f.clinic.engine.import_bundle(backup);
  REQUIRE(s.removed_scopes.size() == 1);
  CHECK(s.removed_scopes[0].scope == "8");
  CHECK(s.removed_scopes[0].left_out == 2);
  CHECK(s.removed_scopes[0].rows == 0);
  CHECK(s.removed_scopes[0].operations == 0);
  CHECK(s.pending == 0);
  CHECK(f.clinic.dump("visits") == "1|'a'|7\n");
  CHECK(test::count(f.clinic.path, "SELECT count(*) FROM ferry_pending") == 0);
  CHECK(f.clinic.engine.verify().ok);
}

TEST_CASE("a relay carries a scope it may not read to a device that may, without applying it", "[scope][fleet]") {
  GrantInfo relay;
  relay.relay = {"8"};
  Fleet f(relay);  // The clinic is the relay here: it carries 8 without reading it.
  Replica eight(f.dir, "eight", kSchema);
  eight.engine.track("visits", "clinic");
  eight.engine.track("drugs");
  eight.engine.fleet_join(f.hq.engine.device_id().to_string(), f.hq.engine.public_key(), "hq");
  f.hq.engine.grant(eight.engine.device_id().to_string(), writes({"8"}));
  // Eight knows the administrator's grants (its first bundle), and nothing of clinic 8's rows yet.
  ExportOptions grants;
  grants.peer = eight.engine.device_id().to_string();
  f.hq.engine.export_bundle(f.dir.file("grants.ferry"), grants);
  (void)eight.engine.import_bundle(f.dir.file("grants.ferry"));

  f.hq.sql("INSERT INTO visits VALUES(1, 'canary-eight-x7Q', 8)");
  const std::string path = f.bundle_for_clinic("to-relay.ferry");
  CHECK(text_of(path).find("canary-eight-x7Q") != std::string::npos);  // Granted to relay 8: it goes.
  const ImportSummary at_relay = f.clinic.engine.import_bundle(path);
  CHECK(at_relay.removed_scopes.empty());
  CHECK(f.clinic.dump("visits").empty());  // Kept, not applied.
  const auto held = f.clinic.engine.status().scopes;
  REQUIRE(held.size() == 1);
  CHECK(held[0].scope == "8");
  CHECK_FALSE(held[0].reads);
  CHECK(held[0].waiting == 1);
  CHECK(held[0].operations == 0);

  ExportOptions on;
  on.peer = eight.engine.device_id().to_string();
  const std::string relayed = f.dir.file("relayed.ferry");
  f.clinic.engine.export_bundle(relayed, on);
  CHECK(eight.engine.import_bundle(relayed).applied >= 1);
  CHECK(eight.dump("visits") == "1|'canary-eight-x7Q'|8\n");

  // Once the relay may neither read nor relay 8, what it carried goes.
  f.regrant(GrantInfo{});
  const ImportSummary after = f.clinic.engine.import_bundle(f.bundle_for_clinic("revoked.ferry"));
  REQUIRE(after.removed_scopes.size() == 1);
  CHECK(after.removed_scopes[0].left_out == 1);
  CHECK(test::count(f.clinic.path, "SELECT count(*) FROM ferry_pending") == 0);
}

TEST_CASE("a member's own chain of a scope it may no longer read goes back to it as a clock entry, not operations",
          "[scope][fleet]") {
  Fleet f(writes({"8"}));
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("1.ferry"));
  f.hq.sql("INSERT INTO visits VALUES(1, 'office', 8)");
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("2.ferry"));
  f.clinic.sql("UPDATE visits SET note = 'clinic' WHERE id = 1");  // Follows the office's chain of 8.
  (void)test::exchange(f.clinic, f.hq, f.dir);
  f.regrant(writes({}));
  ExportOptions everything;  // From the start, for the clinic: its own chain of 8 is all that is left of 8.
  everything.peer = f.clinic.engine.device_id().to_string();
  everything.all = true;
  const std::string path = f.dir.file("all.ferry");
  f.hq.engine.export_bundle(path, everything);
  const BundleInfo info = inspect_bundle(path);
  const DeviceId own = log::chain_id(f.clinic.engine.device_id(), "8");
  // Written against the clinic's announcement (4.1), the clock keeps that entry: not dropped, not changed.
  CHECK(std::find(info.clock_dropped.begin(), info.clock_dropped.end(), own) == info.clock_dropped.end());
  CHECK((info.reference ? info.clock.get(own) == 0 : info.clock.get(own) == 1));
  for (const auto& r : info.ranges) CHECK(r.device != own);
  CHECK(info.clock.get(log::chain_id(f.hq.engine.device_id(), "8")) == 0);
  const ImportSummary s = f.clinic.engine.import_bundle(path);  // Held by the office: removed here.
  REQUIRE(s.removed_scopes.size() == 1);
  CHECK(s.removed_scopes[0].operations == 2);
  CHECK(f.clinic.dump("visits").empty());
}

TEST_CASE("a member's operation in a scope its grant does not let it write refuses the whole bundle, by name",
          "[scope][fleet][security]") {
  Fleet f(writes({"7"}));
  (void)f.clinic.engine.import_bundle(f.bundle_for_clinic("1.ferry"));
  // A copy of the clinic's database edited to forget its fleet, so that its seal holds nothing back:
  // signed with the clinic's key, as a hostile or broken install of it would.
  Engine rogue = test::copy_device(f.clinic, f.dir.file("rogue.db"));
  test::exec(rogue.path(), "DELETE FROM ferry_meta WHERE key = 'fleet_admin'");
  rogue = Engine::open(rogue.path());
  test::exec(rogue.path(), "INSERT INTO visits VALUES(1, 'allowed', 7), (2, 'not allowed', 8)");
  ExportOptions all;
  all.all = true;
  rogue.export_bundle(f.dir.file("rogue.ferry"), all);
  try {
    (void)f.hq.engine.import_bundle(f.dir.file("rogue.ferry"));
    FAIL("the bundle was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::untrusted);  // Exit 6.
    CHECK_THAT(e.what(), Catch::Contains("in scope '8'") && Catch::Contains("had no grant to write it") &&
                             Catch::Contains("Nothing was imported"));
  }
  CHECK(f.hq.dump("visits").empty());  // Not even the row of 7: refused whole.
}
