// The causal index answers "had B seen A?" for every operation held, from the
// clock advances alone; and a database of local format 3 gets it in place the
// first time this ferry opens it, keeping every operation byte for byte
// (bundle_format/format4.md §4 and §8).
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <filesystem>

#include "log/codec.h"
#include "log/store.h"
#include "replica/devices.h"
#include "replica/schema.h"
#include "support/support.h"

using namespace ferry;
namespace fs = std::filesystem;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)";

// Checks, for every operation of the log and every device it knows, that the
// index gives the entry of the operation's whole clock: the one a format 1 body
// carries, or for format 2 the one its chain adds up to (the clock before it,
// then its deps). Returns how many operations were checked.
std::size_t check_index_matches_bodies(const std::string& path, std::uint8_t format) {
  sql::Database db(path, sql::Database::Mode::read_only);
  replica::Devices devices(db);
  log::Store store(db, devices);
  std::vector<Operation> ops;  // Chain after chain, each in seq order.
  log::for_each_held(db, [&](std::string_view body) { ops.push_back(log::decode(body, path, 2)); });
  std::map<DeviceId, VectorClock> whole;
  for (const Operation& op : ops) {
    INFO("operation " << op.seq << " of " << op.origin.to_string());
    if (format != 0) REQUIRE(op.format == format);  // 0: either, as a chain that went on after an upgrade.
    VectorClock& clock = whole[op.origin];
    if (op.format == 1) clock = op.clock;
    clock.merge(op.clock);
    clock.set(op.origin, op.seq);
    for (const replica::Device& d : devices.all()) CHECK(store.clock_entry(op.origin, op.seq, d.id) == clock.get(d.id));
  }
  return ops.size();
}

std::string log_rows(const std::string& path) {
  return test::run("sqlite3 " + test::shell_quote(path) + " 'SELECT id, hex(body) FROM ferry_log ORDER BY id'").out;
}

// The fixture databases of tests/golden/local3 (README there), copied with their keys.
std::string copy_fixture(const test::TempDir& dir, const std::string& name) {
  for (const std::string suffix : {".db", ".db.key"}) {
    fs::copy_file(std::string(FERRY_GOLDEN_DIR) + "/local3/" + name + suffix, dir.file(name + suffix));
    fs::permissions(dir.file(name + suffix), fs::perms::owner_read | fs::perms::owner_write);
  }
  return dir.file(name + ".db");
}

}  // namespace

TEST_CASE("the causal index gives every operation's whole clock, and holds only its advances", "[log][upgrade]") {
  const std::uint8_t format = GENERATE(1, 2);
  INFO("operation format " << int(format));
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  for (auto* r : {&a, &b, &c}) r->engine.set_ferry3_compatible(format == 1);
  for (int round = 0; round < 4; ++round) {
    a.sql("INSERT INTO items VALUES(" + std::to_string(round) + ", 'a', 1); UPDATE items SET qty = qty + 1");
    b.sql("INSERT INTO items VALUES(" + std::to_string(100 + round) + ", 'b', 1)");
    c.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) "
          "INSERT INTO items SELECT 1000 * " + std::to_string(round + 1) + " + i, 'c', i FROM n");
    (void)test::exchange(a, b, dir);
    (void)test::exchange(c, a, dir);
    (void)test::exchange(b, c, dir);
  }
  (void)a.engine.seal();
  (void)b.engine.seal();
  (void)c.engine.seal();
  for (const auto* r : {&a, &b, &c}) {
    INFO(r->name);
    const std::size_t ops = check_index_matches_bodies(r->path, format);
    CHECK(ops > 200);
    // Each operation's clock has up to three entries; the index has a row only where one grew.
    CHECK(test::count(r->path, "SELECT count(*) FROM ferry_deps") <= 2 * 4 * 3);
  }
}

TEST_CASE("a database of local format 3 is upgraded in place when first opened, every operation unchanged",
          "[log][upgrade]") {
  test::TempDir dir;
  const std::string office = copy_fixture(dir, "office"), clinic = copy_fixture(dir, "clinic");
  const std::string before = log_rows(office);
  REQUIRE(test::count(office, "SELECT count(*) FROM ferry_log") == 7);
  REQUIRE(test::count(office, "SELECT count(*) FROM sqlite_schema WHERE name = 'ferry_deps'") == 0);
  {
    auto e = Engine::open(office);
    CHECK(e.upgraded_from() == 3);
    CHECK(e.verify().ok);
  }
  CHECK(log_rows(office) == before);  // Every body, so every hash and signature, as it was.
  CHECK(test::count(office, "SELECT value FROM ferry_meta WHERE key = 'format'") == replica::kLocalSchemaVersion);
  CHECK(check_index_matches_bodies(office, 1) == 7);
  CHECK(Engine::open(office).upgraded_from() == 0);  // Once.

  // It goes on syncing: with a device still as ferry 3 left it (upgraded when opened), and with a new one.
  auto o = Engine::open(office);
  auto c = Engine::open(clinic);
  CHECK(c.upgraded_from() == 3);
  ExportOptions to_office;
  to_office.peer = "office";
  c.export_bundle(dir.file("c.ferry"), to_office);
  const auto got = o.import_bundle(dir.file("c.ferry"));
  CHECK(got.applied == 1);  // clinic's last change of p3.
  test::Replica fresh(dir, "fresh", "CREATE TABLE patients(id TEXT PRIMARY KEY, name TEXT, village TEXT)");
  ExportOptions all;
  all.all = true;
  o.export_bundle(dir.file("all.ferry"), all);
  const auto held = static_cast<std::size_t>(test::count(office, "SELECT count(*) FROM ferry_log"));
  CHECK(held == 8);
  CHECK(fresh.engine.import_bundle(dir.file("all.ferry")).applied == held);
  CHECK(fresh.dump("patients") == test::dump(office, "patients"));
  CHECK(check_index_matches_bodies(fresh.path, 1) == held);
  // The office's next change is of format 2, after its format 1 ones: one chain of both, everywhere the same.
  test::exec(office, "UPDATE patients SET village = 'upstream' WHERE id = 'p1'");
  (void)o.seal();
  const auto newest = o.log();
  REQUIRE(!newest.empty());
  CHECK(newest.front().format == 2);
  CHECK(newest.front().origin == o.device_id());
  ExportOptions to_fresh;
  to_fresh.peer = fresh.engine.device_id().to_string();
  o.export_bundle(dir.file("next.ferry"), to_fresh);
  CHECK(fresh.engine.import_bundle(dir.file("next.ferry")).applied == 1);
  CHECK(fresh.dump("patients") == test::dump(office, "patients"));
  CHECK(check_index_matches_bodies(fresh.path, 0) == held + 1);
  CHECK(o.verify().ok);
  CHECK(fresh.engine.verify().ok);
}

TEST_CASE("a database of local format 3 on a connection that cannot write says how to upgrade it", "[log][upgrade]") {
  test::TempDir dir;
  const std::string office = copy_fixture(dir, "office");
  sqlite3* conn = nullptr;
  REQUIRE(sqlite3_open_v2(office.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  CHECK_THROWS_WITH(Engine::on_connection(conn),
                    Catch::Contains("local format 3") && Catch::Contains("open it once where it can be written"));
  sqlite3_close(conn);
  CHECK(test::count(office, "SELECT value FROM ferry_meta WHERE key = 'format'") == 3);
}

TEST_CASE("a database of local format 3 whose log is damaged is not upgraded, and says so", "[log][upgrade]") {
  test::TempDir dir;
  const std::string office = copy_fixture(dir, "office");
  test::exec(office, "DROP TRIGGER ferry_log_append_only_update; "
                     "UPDATE ferry_log SET body = x'9b01' WHERE id = (SELECT max(id) FROM ferry_log)");
  CHECK_THROWS_WITH(Engine::open(office), Catch::Contains("cannot be upgraded from local format 3") &&
                                              Catch::Contains("nothing was changed"));
  CHECK(test::count(office, "SELECT value FROM ferry_meta WHERE key = 'format'") == 3);
  CHECK(test::count(office, "SELECT count(*) FROM sqlite_schema WHERE name = 'ferry_deps'") == 0);
}

TEST_CASE("a database left as ferry 3 left it gets the same index as one that recorded it on arrival",
          "[log][upgrade]") {
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  for (auto* r : {&a, &b}) r->engine.set_ferry3_compatible(true);  // What ferry 3.x sealed.
  for (int round = 0; round < 3; ++round) {
    a.sql("INSERT INTO items VALUES(" + std::to_string(round) + ", 'a', 1)");
    b.sql("UPDATE items SET qty = qty + 1; INSERT INTO items VALUES(" + std::to_string(50 + round) + ", 'b', 1)");
    (void)test::exchange(a, b, dir);
    (void)test::exchange(b, a, dir);
  }
  (void)a.engine.seal();
  const std::string recorded = test::dump(a.path, "ferry_deps");
  test::as_left_by_ferry_3(a.path);
  CHECK(Engine::open(a.path).upgraded_from() == 3);
  CHECK(test::dump(a.path, "ferry_deps") == recorded);
}
