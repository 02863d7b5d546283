// Bundles that fit the carrier (ExportOptions::max_size, exchange/export_parts.h):
// over the limit, an export is cut into parts, each an ordinary bundle of at
// most the limit that imports on its own and in any order; what cannot be cut
// and is over the limit alone is refused by name, and nothing is written.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, note TEXT)";

// `n` rows of 300 random letters each, which compress to little less.
void add_rows(test::Replica& r, int first, int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string sql = "BEGIN;";
  for (int i = first; i < first + n; ++i) {
    std::string note(300, 'a');
    for (char& c : note) c = static_cast<char>('a' + rng() % 26);
    sql += "INSERT INTO items VALUES(" + std::to_string(i) + ", '" + note + "');";
  }
  test::exec(r.path, sql + "COMMIT;");
}

std::size_t files_in(const test::TempDir& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) n += e.path().filename().string()[0] != '.';
  return n;
}

std::size_t hidden_in(const test::TempDir& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) n += e.path().filename().string()[0] == '.';
  return n;
}

}  // namespace

TEST_CASE("an export over its size limit is cut into parts that each import alone and in any order", "[parts]") {
  test::TempDir dir, out;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  add_rows(a, 1, 1500, 1);
  ExportOptions options;
  options.all = true;
  options.max_size = 150 * 1024;
  const auto parts = a.engine.export_bundles(out.file("all.ferry"), options);
  REQUIRE(parts.size() >= 3);
  std::size_t operations = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    INFO(parts[k].path);
    CHECK(parts[k].path == part_path(out.file("all.ferry"), k + 1, parts.size()));
    CHECK(std::filesystem::file_size(parts[k].path) <= options.max_size);
    CHECK(parts[k].bytes <= options.max_size);
    operations += parts[k].operations;
  }
  CHECK(operations == 1500);
  CHECK(files_in(out) == parts.size());
  CHECK(hidden_in(out) == 0);

  SECTION("in reverse order: the later parts wait as pending until the first comes") {
    for (auto p = parts.rbegin(); p != parts.rend(); ++p) (void)b.engine.import_bundle(p->path);
    CHECK(b.dump("items") == a.dump("items"));
    CHECK(b.engine.status().pending_operations == 0);
  }
  SECTION("each alone, into a device that has nothing: it applies or waits, and is never refused") {
    for (const auto& p : parts) {
      test::Replica fresh(dir, "fresh" + std::to_string(&p - parts.data()), kSchema);
      const ImportSummary s = fresh.engine.import_bundle(p.path);
      CHECK(s.applied + s.pending == p.operations);
    }
  }
}

TEST_CASE("an export that fits its size limit is one file, under the name asked for", "[parts]") {
  test::TempDir dir, out;
  test::Replica a(dir, "a", kSchema);
  add_rows(a, 1, 10, 2);
  ExportOptions options;
  options.all = true;
  options.max_size = 1 << 20;
  const auto parts = a.engine.export_bundles(out.file("small.ferry"), options);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].path == out.file("small.ferry"));
  CHECK(part_path("x/out.ferry", 2, 3) == "x/out-2of3.ferry");
  CHECK(part_path("out", 1, 2) == "out-1of2");
}

TEST_CASE("another device's operations are cut only where that device signed a head", "[parts]") {
  test::TempDir dir, out;
  test::Replica a(dir, "a", kSchema), relay(dir, "relay", kSchema), c(dir, "c", kSchema);
  std::vector<std::uint64_t> heads;  // Where a signed the heads the relay holds.
  for (int round = 0; round < 4; ++round) {
    add_rows(a, round * 300 + 1, 300, 10 + round);
    (void)test::exchange(a, relay, dir);
    heads.push_back(a.engine.clock().get(a.engine.device_id()));
  }
  ExportOptions options;
  options.peer = c.engine.device_id().to_string();
  options.max_size = 200 * 1024;
  const auto parts = relay.engine.export_bundles(out.file("for-c.ferry"), options);
  REQUIRE(parts.size() >= 2);
  for (const auto& p : parts)
    for (const SeqRange& r : p.ranges) {
      INFO(p.path << " ends at " << r.last);
      if (r.device == a.engine.device_id()) CHECK(std::find(heads.begin(), heads.end(), r.last) != heads.end());
    }
  for (const auto& p : parts) (void)c.engine.import_bundle(p.path);
  CHECK(c.dump("items") == a.dump("items"));

  SECTION("a run signed as one and over the limit alone is refused, and nothing is written") {
    test::TempDir none;
    options.max_size = 60 * 1024;
    try {
      (void)relay.engine.export_bundles(none.file("for-c.ferry"), options);
      FAIL("exported");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::refused);
      CHECK_THAT(e.what(), Catch::Contains("signed as one run") && Catch::Contains("Raise the limit (--max-size)"));
    }
    CHECK(files_in(none) + hidden_in(none) == 0);
  }
}

TEST_CASE("a value larger than the size limit is refused by name, never split, and nothing is written", "[parts]") {
  test::TempDir dir, out;
  test::Replica a(dir, "a", kSchema);
  add_rows(a, 1, 5, 3);
  std::mt19937 rng(7);
  std::string big(200 * 1024, 'x');
  for (char& ch : big) ch = static_cast<char>('a' + rng() % 26);
  a.sql("INSERT INTO items VALUES(99, '" + big + "')");
  ExportOptions options;
  options.all = true;
  options.max_size = 100 * 1024;
  try {
    (void)a.engine.export_bundles(out.file("all.ferry"), options);
    FAIL("exported");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("operation 6 of chain") && Catch::Contains("by itself") &&
                             Catch::Contains("nothing was written"));
  }
  CHECK(files_in(out) + hidden_in(out) == 0);

  SECTION("export_bundle refuses any bundle over the limit rather than cutting it") {
    options.max_size = 20 * 1024;
    CHECK_THROWS_WITH(a.engine.export_bundle(out.file("one.ferry"), options), Catch::Contains("more than the limit"));
    CHECK(files_in(out) + hidden_in(out) == 0);
  }
  SECTION("and so is a snapshot, which is never cut") {
    options.all = false;
    options.snapshot = true;
    CHECK_THROWS_WITH(a.engine.export_bundles(out.file("snap.ferry"), options),
                      Catch::Contains("a snapshot cannot be cut") && Catch::Contains("export --all --max-size"));
  }
}

TEST_CASE("an export that would tell its peer nothing new writes nothing, when asked", "[parts]") {
  test::TempDir dir, out;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  add_rows(a, 1, 3, 4);
  (void)test::exchange(a, b, dir);
  (void)test::exchange(b, a, dir);  // a knows b holds all it has, and b knows a's clock.
  ExportOptions options;
  options.peer = b.engine.device_id().to_string();
  options.only_news = true;
  const ExportSummary none = a.engine.export_bundle(out.file("1.ferry"), options);
  CHECK_FALSE(none.written);
  CHECK_FALSE(std::filesystem::exists(out.file("1.ferry")));
  add_rows(a, 10, 1, 5);
  const ExportSummary news = a.engine.export_bundle(out.file("2.ferry"), options);
  CHECK(news.written);
  CHECK(news.operations == 1);
  SECTION("the last export still on its way: nothing new while the clock stands") {
    options.on_its_way = news.bundle_id;
    CHECK_FALSE(a.engine.export_bundle(out.file("3.ferry"), options).written);
  }
  SECTION("no bundle on its way: the peer still lacks the operation, so it is written again") {
    CHECK(a.engine.export_bundle(out.file("3.ferry"), options).written);
  }
}

TEST_CASE("an import keeps the bundle's id and content hash, by which a folder read again is passed over", "[parts]") {
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  add_rows(a, 1, 3, 6);
  const std::string path = test::export_for(a.engine, b.engine.device_id(), dir.file("a.ferry"));
  const BundleInfo info = inspect_bundle(path);
  CHECK_FALSE(b.engine.imported(info.bundle_id, info.content_hash));
  (void)b.engine.import_bundle(path);
  CHECK(b.engine.imported(info.bundle_id, info.content_hash));
  Hash other = info.content_hash;
  other[0] ^= 1;
  CHECK_FALSE(b.engine.imported(info.bundle_id, other));
}
