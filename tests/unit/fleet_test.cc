// The fleet (bundle_format/format4.md §12.3): an administrator grants each
// device what it may write; grants travel as the administrator's operations;
// a write is judged by the grant its writer held when it wrote it, the same on
// every device; a device's changes it may not send are held, not lost; an
// operation written without a grant refuses its whole bundle, by name.
#include <catch2/catch.hpp>

#include "fleet/fleet.h"
#include "support/impostor.h"
#include "support/refusal.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

GrantInfo writes_shared() {
  GrantInfo g;
  g.write = {""};
  return g;
}

std::string id_of(const Replica& r) { return r.engine.device_id().to_string(); }

void join(Replica& member, Replica& admin) { member.engine.fleet_join(id_of(admin), admin.engine.public_key(), admin.name); }

std::string bundle_of(Replica& from, const test::TempDir& dir, const std::string& name) {
  const std::string path = dir.file(name);
  test::export_all(from, path);
  return path;
}

// An administrator (hq) and two members, a and b, that joined its fleet and hold its first grant.
struct Fleet {
  test::TempDir dir;
  Replica hq{dir, "hq", kSchema};
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};
  Fleet() {
    hq.engine.fleet_init();
    join(a, hq);
    join(b, hq);
    test::exchange(hq, a, dir);
    test::exchange(hq, b, dir);
  }
};

}  // namespace

TEST_CASE("a fleet's administrator grants, and a member's changes wait, held, until a grant lets it send them",
          "[fleet]") {
  Fleet f;
  REQUIRE(f.a.engine.fleet().administrator == f.hq.engine.device_id());
  REQUIRE(f.a.engine.fleet().started);

  f.a.sql("INSERT INTO items VALUES(1, 'from a')");
  const auto held = f.a.engine.status().held;
  REQUIRE(held.size() == 1);
  CHECK_THAT(held[0].reason, Catch::Contains("does not let it change shared tables"));
  CHECK(test::exchange(f.a, f.hq, f.dir).applied == 0);  // Nothing of it left a.

  f.hq.engine.grant(id_of(f.a), writes_shared());
  test::exchange(f.hq, f.a, f.dir);
  CHECK(f.a.engine.status().held.empty());
  test::exchange(f.a, f.hq, f.dir);
  test::exchange(f.hq, f.b, f.dir);
  CHECK(f.hq.dump("items") == f.a.dump("items"));
  CHECK(f.b.dump("items") == f.a.dump("items"));
  CHECK(f.b.engine.fleet().grants.size() == 2);  // hq's own and a's.
}

TEST_CASE("an operation written without a grant refuses its whole bundle, by name, at every member", "[fleet]") {
  Fleet f;
  Replica rogue(f.dir, "rogue", kSchema);  // Knows nothing of the fleet, so nothing held it back.
  rogue.sql("INSERT INTO items VALUES(7, 'rogue')");
  const std::string bundle = bundle_of(rogue, f.dir, "rogue.ferry");
  for (Replica* member : {&f.b, &f.hq}) {
    const Error e = test::expect_refusal(*member, bundle, Errc::untrusted);
    CHECK_THAT(e.what(), Catch::Contains("operation 1 of device " + id_of(rogue)));
    CHECK_THAT(e.what(), Catch::Contains("no grant to write it"));
    CHECK_THAT(e.what(), Catch::Contains("Nothing was imported"));
  }
}

TEST_CASE("what a device wrote before it joined is refused until the administrator admits it", "[fleet]") {
  Fleet f;
  Replica late(f.dir, "late", kSchema);
  late.sql("INSERT INTO items VALUES(8, 'written before joining')");
  const std::string before = bundle_of(late, f.dir, "late.ferry");
  test::expect_refusal(f.b, before, Errc::untrusted);

  f.hq.engine.admit(id_of(late) + ":1");
  test::exchange(f.hq, f.b, f.dir);
  CHECK(f.b.engine.import_bundle(before).applied == 1);
  CHECK(f.b.dump("items") == late.dump("items"));
}

TEST_CASE("what the administrator held when it started the fleet is allowed, and others' operations wait for its "
          "first grant",
          "[fleet]") {
  test::TempDir dir;
  Replica hq(dir, "hq", kSchema), a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'before the fleet')");
  const std::string from_a = bundle_of(a, dir, "a.ferry");
  REQUIRE(hq.engine.import_bundle(from_a).applied == 1);
  hq.engine.fleet_init();  // Its starting history holds a's operation 1.
  join(b, hq);

  const ImportSummary waiting = b.engine.import_bundle(from_a);
  CHECK(waiting.applied == 0);
  CHECK(waiting.pending == 1);
  const auto missing = b.engine.status().missing;
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].device == hq.engine.device_id());

  test::exchange(hq, b, dir);
  CHECK(b.engine.status().pending_operations == 0);
  CHECK(b.dump("items") == a.dump("items"));
}

TEST_CASE("only the administrator changes grants: a member's change to them stays held, and another fleet's grants "
          "or a grant under the administrator's id but another key are refused",
          "[fleet]") {
  Fleet f;
  f.hq.engine.grant(id_of(f.a), writes_shared());
  test::exchange(f.hq, f.a, f.dir);

  // A member writing the table itself: held at its seal, never sent.
  f.a.sql("INSERT INTO ferry_grants(device, read, write, relay) VALUES(randomblob(16), '[]', '[\"*\"]', '[]')");
  const auto held = f.a.engine.status().held;
  REQUIRE(held.size() == 1);
  CHECK_THAT(held[0].reason, Catch::Contains("only the fleet's administrator"));

  // A device that made itself the administrator of a fleet of its own: its grants are not hq's.
  Replica pretender(f.dir, "pretender", kSchema);
  pretender.engine.fleet_init();
  pretender.engine.grant(id_of(f.b), writes_shared());
  const Error other = test::expect_refusal(f.b, bundle_of(pretender, f.dir, "pretender.ferry"), Errc::untrusted);
  CHECK_THAT(other.what(), Catch::Contains("changes a grant, which only the fleet's administrator"));

  // A database posing as hq, with keys of its own: refused before any operation is read.
  Replica impostor(f.dir, "impostor", kSchema);
  test::pose_as(impostor.path, f.hq.engine.device_id());
  Engine as_hq = Engine::open(impostor.path);
  as_hq.fleet_init();
  as_hq.grant(id_of(f.b), writes_shared());
  ExportOptions all;
  all.all = true;
  as_hq.export_bundle(f.dir.file("impostor.ferry"), all);
  test::expect_refusal(f.b, f.dir.file("impostor.ferry"), Errc::untrusted);
  CHECK(f.b.engine.fleet().grants.size() == 1);  // Still only hq's own.
}

TEST_CASE("a revocation holds from the point the device learns of it: what it wrote before is accepted, what after is "
          "held, and replaying the old grant changes nothing",
          "[fleet]") {
  Fleet f;
  f.hq.engine.grant(id_of(f.a), writes_shared());
  const std::string granted = bundle_of(f.hq, f.dir, "granted.ferry");
  REQUIRE(f.a.engine.import_bundle(granted).applied == 1);
  REQUIRE(f.b.engine.import_bundle(granted).applied == 1);

  f.hq.engine.revoke(id_of(f.a));
  test::exchange(f.hq, f.b, f.dir);
  f.a.sql("INSERT INTO items VALUES(1, 'before a heard')");  // a has not heard of the revocation.
  test::exchange(f.a, f.b, f.dir);
  CHECK(f.b.dump("items") == f.a.dump("items"));

  test::exchange(f.hq, f.a, f.dir);
  f.a.sql("INSERT INTO items VALUES(2, 'after a heard')");
  REQUIRE(f.a.engine.status().held.size() == 1);

  const ImportSummary replay = f.a.engine.import_bundle(granted);
  CHECK(replay.applied == 0);
  const auto grants = f.a.engine.fleet().grants;
  REQUIRE(grants.size() == 2);
  CHECK(grants[1].write.empty());
  CHECK(f.a.engine.status().held.size() == 1);
}

TEST_CASE("a database belongs to one fleet, and grants name scopes plainly",
          "[fleet]") {
  Fleet f;
  Replica other(f.dir, "other", kSchema);
  other.engine.fleet_init();
  CHECK_THROWS_WITH(join(f.a, other), Catch::Contains("already in the fleet administered by device " + id_of(f.hq)));
  CHECK_NOTHROW(join(f.a, f.hq));  // Again: no change.
  CHECK_THROWS_WITH(f.a.engine.grant(id_of(f.b), writes_shared()), Catch::Contains("run this there"));
  CHECK_THROWS_WITH(f.a.engine.untrack("ferry_grants"), Catch::Contains("holds the fleet's grants"));

  GrantInfo bad;
  bad.read = {std::string(129, 'x')};
  CHECK_THROWS_WITH(f.hq.engine.grant(id_of(f.b), bad), Catch::Contains("more than 128"));
  bad.read = {"*clinic"};
  CHECK_THROWS_WITH(f.hq.engine.grant(id_of(f.b), bad), Catch::Contains("reserved"));
}

TEST_CASE("a device that starts from a snapshot knows every grant as it was made, and judges as the others do",
          "[fleet]") {
  Fleet f;
  // a's grant row: made empty, then letting it write, then revoked. Its current state depends on the first
  // (the row's existence) and the last (its write list) only: the one in between is history.
  f.hq.engine.grant(id_of(f.a), GrantInfo{});
  f.hq.engine.grant(id_of(f.a), writes_shared());
  test::exchange(f.hq, f.a, f.dir);
  f.hq.engine.revoke(id_of(f.a));
  test::exchange(f.hq, f.b, f.dir);
  f.a.sql("INSERT INTO items VALUES(1, 'before a heard')");  // Allowed: a's grant then let it.
  const std::string from_a = bundle_of(f.a, f.dir, "a.ferry");

  Replica n(f.dir, "n", kSchema);
  join(n, f.hq);
  ExportOptions snapshot;
  snapshot.snapshot = true;
  f.b.engine.export_bundle(f.dir.file("snapshot.ferry"), snapshot);
  REQUIRE(n.engine.import_bundle(f.dir.file("snapshot.ferry")).applied > 0);
  CHECK(n.engine.fleet().grants.size() == 2);

  CHECK(n.engine.import_bundle(from_a).applied == 1);  // Judged by the grant a held, which only the history shows.
  CHECK(f.b.engine.import_bundle(from_a).applied == 1);
  CHECK(n.dump("items") == f.b.dump("items"));

  Replica outsider(f.dir, "outsider", kSchema);  // Not in the fleet: told to join first.
  CHECK_THROWS_WITH(outsider.engine.import_bundle(f.dir.file("snapshot.ferry")), Catch::Contains("has not joined"));
}

TEST_CASE("a scope list is read back only in the one form the administrator's ferry writes", "[fleet]") {
  CHECK(fleet::scopes_to_json({"b", "", "a\"q\\", "b"}) == R"(["","a\"q\\","b"])");
  CHECK(fleet::scopes_from_json(R"(["","a\"q\\","b"])", "test") == std::vector<std::string>{"", "a\"q\\", "b"});
  for (const char* bad : {R"(["b","a"])", R"(["a","a"])", R"([ "a"])", R"(["a",])", R"({"a":1})", R"([1])",
                          R"(["\u0001"])", R"(["\u0041"])", R"(["*x"])", "[\"\xff\"]", ""}) {
    INFO(bad);
    CHECK_THROWS_AS(fleet::scopes_from_json(bad, "test"), Error);
  }
  CHECK_THROWS_WITH(fleet::scopes_to_json({"tab\there"}), Catch::Contains("not plain UTF-8 text"));
}

TEST_CASE("a member that takes a new identity is a new device to its fleet: granted, and what it made again admitted",
          "[fleet]") {
  Fleet f;
  f.hq.engine.grant(id_of(f.a), writes_shared());
  test::exchange(f.hq, f.a, f.dir);
  f.a.sql("INSERT INTO items VALUES(1, 'never sent')");
  REQUIRE(f.a.engine.seal() == 1);
  const Reidentified r = f.a.engine.reidentify();
  REQUIRE(r.reissued == 1);
  test::exchange(f.hq, f.b, f.dir);
  const std::string remade = bundle_of(f.a, f.dir, "remade.ferry");
  test::expect_refusal(f.b, remade, Errc::untrusted);  // Its new identity had no grant.

  f.hq.engine.grant(r.device.to_string(), writes_shared());
  f.hq.engine.admit(r.device.to_string() + ":" + std::to_string(r.reissued));
  test::exchange(f.hq, f.b, f.dir);
  CHECK(f.b.engine.import_bundle(remade).applied == 1);
  CHECK(f.b.dump("items") == f.a.dump("items"));

  CHECK_THROWS_WITH(f.hq.engine.reidentify(), Catch::Contains("administers a fleet"));
}
