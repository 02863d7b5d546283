// The carrier's workflow (ferry/sync.h): devices that only ever run sync on
// one shared folder converge, import each bundle once, leave each peer what it
// lacks, and delete only what no device needs; a damaged file is refused and
// left. A run killed at any moment: sync_crash_test.cc.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "ferry/sync.h"
#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, note TEXT)";

std::vector<std::string> bundles_in(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(folder)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Every device syncs in turn, round after round, until a whole round changes
// nothing (no file written or deleted, no operation applied). Returns the rounds it took.
int settle(std::vector<test::Replica*> devices, const std::string& folder, int most = 8) {
  for (int round = 1; round <= most; ++round) {
    bool changed = false;
    for (test::Replica* d : devices) {
      const SyncReport r = sync_folder(d->engine, folder);
      INFO(d->name << " in round " << round);
      REQUIRE_FALSE(r.first_error);
      changed = changed || !r.exports.empty() || !r.deletions.empty();
      for (const auto& f : r.imports) changed = changed || (f.import && f.import->applied > 0);
    }
    if (!changed) return round;
  }
  FAIL("the folder never settled");
  return most;
}

}  // namespace

TEST_CASE("three devices that only run sync on one folder converge, and leave it empty", "[sync]") {
  test::TempDir dir, stick;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'from a')");
  b.sql("INSERT INTO items VALUES(2, 'from b')");
  c.sql("INSERT INTO items VALUES(3, 'from c'); UPDATE items SET note = 'c again' WHERE id = 3");

  const SyncReport first = sync_folder(a.engine, stick.path());
  REQUIRE(first.exports.size() == 1);  // a knows no one yet: it introduces itself.
  CHECK(first.exports[0].file.rfind("from-a-", 0) == 0);
  CHECK(first.exports[0].exported->operations == 0);

  CHECK(settle({&a, &b, &c}, stick.path()) <= 4);
  CHECK(a.dump("items") == b.dump("items"));
  CHECK(b.dump("items") == c.dump("items"));
  CHECK(test::count(a.path, "SELECT count(*) FROM items") == 3);
  CHECK(bundles_in(stick.path()).empty());

  SECTION("a change later reaches the others through the folder, named for each") {
    b.sql("INSERT INTO items VALUES(4, 'later, from b')");
    const SyncReport r = sync_folder(b.engine, stick.path());
    REQUIRE(r.exports.size() == 2);
    for (const auto& w : r.exports) {
      CHECK(w.file.rfind("to-", 0) == 0);
      CHECK(w.exported->operations == 1);
    }
    CHECK(settle({&a, &c, &b}, stick.path()) <= 3);
    CHECK(a.dump("items") == b.dump("items"));
    CHECK(c.dump("items") == b.dump("items"));
  }
}

TEST_CASE("sync imports a bundle once, by its id and content, whatever its file is called", "[sync]") {
  test::TempDir dir, stick;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'x')");
  const std::string path = test::export_for(a.engine, b.engine.device_id(), stick.file("for-b.ferry"));
  std::filesystem::copy_file(path, stick.file("COPY OF for-b.FERRY"));
  const SyncReport r = sync_folder(b.engine, stick.path());
  REQUIRE(r.imports.size() == 2);
  std::size_t imported = 0, same = 0;
  for (const auto& f : r.imports) {
    imported += f.outcome == SyncFile::Outcome::imported;
    same += f.outcome == SyncFile::Outcome::same_as;
  }
  CHECK(imported == 1);
  CHECK(same == 1);
  // Both were for b, which imported the bundle: neither is needed any more.
  CHECK(r.deletions.size() == 2);
}

TEST_CASE("a damaged bundle in the folder is refused and left as it is, and the others are imported", "[sync]") {
  test::TempDir dir, stick;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'from a')");
  c.sql("INSERT INTO items VALUES(3, 'from c')");
  const std::string good = test::export_for(a.engine, b.engine.device_id(), stick.file("from-a.ferry"));
  const std::string bad = test::export_for(c.engine, b.engine.device_id(), stick.file("from-c.ferry"));
  auto bytes = test::read_file(bad);
  bytes.resize(bytes.size() / 2);  // Pulled out while it was copied.
  test::write_file(bad, bytes);
  const std::string before = b.dump("items");
  const SyncReport r = sync_folder(b.engine, stick.path());
  REQUIRE(r.first_error);
  CHECK(*r.first_error == Errc::corrupt);
  bool refused = false;
  for (const auto& f : r.imports)
    if (f.file == "from-c.ferry") {
      refused = f.outcome == SyncFile::Outcome::refused;
      CHECK_THAT(f.detail, Catch::Contains("left in the folder"));
    }
  CHECK(refused);
  CHECK(std::filesystem::exists(bad));
  CHECK(test::count(b.path, "SELECT count(*) FROM items WHERE id = 1") == 1);
  CHECK(test::count(b.path, "SELECT count(*) FROM items WHERE id = 3") == 0);
  (void)good;
}

TEST_CASE("a bundle encrypted for another device is passed over and left for it", "[sync]") {
  test::TempDir dir, stick;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  (void)test::exchange(b, a, dir);  // a learns b's encryption key.
  a.sql("INSERT INTO items VALUES(1, 'secret')");
  ExportOptions options;
  options.peer = b.engine.device_id().to_string();
  options.encrypt_for = options.peer;
  (void)a.engine.export_bundle(stick.file("for-b.ferry"), options);
  const SyncReport r = sync_folder(c.engine, stick.path());
  REQUIRE(r.imports.size() == 1);
  CHECK(r.imports[0].outcome == SyncFile::Outcome::not_for_this_device);
  CHECK(std::filesystem::exists(stick.file("for-b.ferry")));
  const SyncReport for_b = sync_folder(b.engine, stick.path());
  CHECK(for_b.imports[0].outcome == SyncFile::Outcome::imported);
  CHECK(b.dump("items") == a.dump("items"));
  CHECK_FALSE(std::filesystem::exists(stick.file("for-b.ferry")));
}

TEST_CASE("sync over a size limit leaves each peer its bundle in parts, which the peer imports in one run", "[sync]") {
  test::TempDir dir, stick;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  (void)test::exchange(b, a, dir);
  std::string sql = "BEGIN;";
  std::mt19937 rng(1);
  for (int i = 0; i < 800; ++i) {
    std::string note(300, 'a');
    for (char& ch : note) ch = static_cast<char>('a' + rng() % 26);
    sql += "INSERT INTO items VALUES(" + std::to_string(i) + ", '" + note + "');";
  }
  a.sql(sql + "COMMIT;");
  SyncOptions options;
  options.max_size = 100 * 1024;
  const SyncReport r = sync_folder(a.engine, stick.path(), options);
  REQUIRE(r.exports.size() >= 2);
  for (const auto& w : r.exports) CHECK(std::filesystem::file_size(stick.file(w.file)) <= options.max_size);
  const SyncReport got = sync_folder(b.engine, stick.path(), options);
  CHECK_FALSE(got.first_error);
  CHECK(b.dump("items") == a.dump("items"));
  CHECK(b.engine.status().pending_operations == 0);
}

TEST_CASE("a bundle in this device's name that holds more of its chain than it does is imported, and finds a copy out",
          "[sync]") {
  test::TempDir dir, stick;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  (void)test::exchange(a, b, dir);
  (void)test::exchange(b, a, dir);
  Engine copy = test::copy_device(a, dir.file("a-restored.db"));  // A backup of a, restored elsewhere.
  test::exec(dir.file("a-restored.db"), "INSERT INTO items VALUES(7, 'written on the copy')");
  (void)sync_folder(copy, stick.path());
  a.sql("INSERT INTO items VALUES(8, 'written on a')");
  const SyncReport r = sync_folder(a.engine, stick.path());
  REQUIRE(r.first_error);
  CHECK(*r.first_error == Errc::refused);
  CHECK_FALSE(a.engine.status().identity_reused.empty());
}
