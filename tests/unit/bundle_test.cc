// A bundle is a file from a stranger: every kind of damage gets its own clear
// refusal, nothing in it runs, and the database it was meant for is untouched.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "bundle/reader.h"
#include "support/faulty_vfs.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL)";

// Changes to a bundle's content that only its hashes reveal: both the full scan
// and export's read-back (Reader::check_content) must catch each. A delta bundle's
// body ends with the last column's value (its link is left out): here the REAL price.
const std::string kFlipValueOfOperation2 =
    "UPDATE ferry_ops SET body = CAST(substr(body, 1, length(body) - 6) || x'ff' || substr(body, length(body) - 4) "
    "AS BLOB) WHERE seq = 2";
const std::string kRemoveOperation2 = "DELETE FROM ferry_ops WHERE seq = 2";
const std::string kChangeLastHash = "UPDATE ferry_ranges SET last_hash = zeroblob(32)";
const std::string kChangeManifest = "UPDATE ferry_bundle SET created_ms = created_ms + 1";

struct Fixture {
  test::TempDir dir;
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};
  std::string good = dir.file("good.ferry");

  // A bundle of the newest format, or of `format` (3: what a peer still on ferry 3.x reads).
  explicit Fixture(unsigned format = 0) {
    if (format == 3) a.engine.set_ferry3_compatible(true);
    a.sql("INSERT INTO items VALUES(1, 'bolt', 0.25), (2, 'nut', 0.1); UPDATE items SET price=0.3 WHERE id=1");
    ExportOptions all;
    all.all = true;
    all.format = format;
    a.engine.export_bundle(good, all);
  }

  // A copy of the good bundle, changed with plain SQL as an attacker would.
  std::string tampered(const std::string& sql) {
    const std::string path = dir.file("tampered.ferry");
    test::write_file(path, test::read_file(good));
    test::exec(path, sql);
    return path;
  }

  std::string with_bytes(const std::vector<std::uint8_t>& bytes) {
    const std::string path = dir.file("damaged.ferry");
    test::write_file(path, bytes);
    return path;
  }

  // Imports `path` into b; returns the error, checking that b was not touched.
  Error refusal(const std::string& path) {
    const std::string before = b.dump("items");
    const std::size_t operations = b.engine.status().operations;
    try {
      (void)b.engine.import_bundle(path);
    } catch (const Error& e) {
      CHECK(b.dump("items") == before);
      CHECK(b.engine.status().operations == operations);
      (void)b.engine.import_bundle(good);  // A good bundle still imports afterwards.
      CHECK(b.engine.status().operations == 3);
      CHECK(b.dump("items") == a.dump("items"));
      return e;
    }
    FAIL("the bundle was accepted");
    return Error(Errc::internal, "unreachable");
  }
};

}  // namespace

TEST_CASE("inspect shows a bundle's metadata without a database", "[bundle]") {
  const unsigned format = GENERATE(0u, 3u);
  Fixture f(format);
  const BundleInfo info = inspect_bundle(f.good);
  CHECK(info.format_major == (format ? format : 4u));
  CHECK(info.exporter == f.a.engine.device_id());
  CHECK(info.exporter_name == "a");
  CHECK(info.operations == 3);
  REQUIRE(info.ranges.size() == 1);
  CHECK(info.ranges[0].first == 1);
  CHECK(info.ranges[0].last == 3);
  CHECK(info.clock.get(f.a.engine.device_id()) == 3);
  REQUIRE(info.tables.size() == 1);
  CHECK(info.tables[0].key == std::vector<std::string>{"id"});
  const auto v = verify_bundle(f.good);
  CHECK(v.ok);
  CHECK(v.operations == 3);
}

TEST_CASE("a truncated bundle is refused at every cut", "[bundle][damage]") {
  Fixture f;
  const auto bytes = test::read_file(f.good);
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{99}, std::size_t{100}, std::size_t{4096},
                          bytes.size() / 2, bytes.size() - 4096, bytes.size() - 1}) {
    INFO("cut at " << cut);
    const Error e = f.refusal(f.with_bytes({bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)}));
    CHECK(e.code() == Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains("not a ferry bundle") || Catch::Contains("truncated"));
  }
}

TEST_CASE("damage to the header is named", "[bundle][damage]") {
  Fixture f;
  auto bytes = test::read_file(f.good);
  std::string expected;
  Errc code = Errc::corrupt;
  SECTION("magic") { bytes[0] = 'X'; expected = "not a SQLite file"; }
  SECTION("application id") { bytes[71] ^= 1; expected = "wrong application id"; }
  SECTION("page size") { bytes[16] = 0x03; bytes[17] = 0x00; expected = "invalid page size"; }
  SECTION("WAL mode") { bytes[18] = 2; bytes[19] = 2; expected = "WAL"; }
  SECTION("a newer format") { bytes[63] = 5; expected = "newer than this ferry reads"; code = Errc::refused; }
  const Error e = f.refusal(f.with_bytes(bytes));
  CHECK(e.code() == code);
  CHECK_THAT(e.what(), Catch::Contains(expected));
}

TEST_CASE("damage inside a 3.0 bundle's content is named", "[bundle][damage]") {
  Fixture f(3);  // Its operations are rows of ferry_ops; 4.0's segments: bundle4_test.cc.
  std::string sql, expected;
  SECTION("a byte flipped in an operation's value") {
    sql = kFlipValueOfOperation2;
    // Still a valid operation, so the chain catches it: every later link, the last included,
    // is derived from its hash, so the chain no longer ends at the signed head.
    expected = "operations of device " + f.a.engine.device_id().to_string() + " do not end at the chain head";
  }
  SECTION("an operation stored with its link, as format 2.0 did") {
    sql = "UPDATE ferry_ops SET body = CAST(body || x'c420' || zeroblob(32) AS BLOB) WHERE seq = 1";
    expected = "operation 1 of device " + f.a.engine.device_id().to_string() + ": 34 unexpected bytes after the encoded operation";
  }
  SECTION("an operation replaced by another") {
    sql = "UPDATE ferry_ops SET body = (SELECT body FROM ferry_ops WHERE seq = 1) WHERE seq = 3";
    expected = "operation 3 of device " + f.a.engine.device_id().to_string() + ": its content names another operation";
  }
  SECTION("the range's last hash changed") {
    // The origin's signature over its head no longer verifies either, but damage is named as damage.
    sql = kChangeLastHash;
    expected = "do not end at the chain head its range announces";
  }
  SECTION("an operation removed") {
    sql = kRemoveOperation2;
    expected = "expected operation 2";
  }
  SECTION("the clock in the manifest changed") {
    sql = kChangeManifest;
    expected = "content hash does not match";
  }
  SECTION("a table renamed") {
    sql = "ALTER TABLE ferry_ops RENAME TO ops";
    expected = "schema object a bundle may not have";
  }
  SECTION("a trigger planted") {
    sql = "CREATE TRIGGER evil AFTER INSERT ON ferry_tables BEGIN SELECT 1; END";
    expected = "trigger 'evil'";
  }
  SECTION("a view planted over a real table name") {
    sql = "CREATE VIEW v AS SELECT load_extension('x')";
    expected = "view 'v'";
  }
  const Error e = f.refusal(f.tampered(sql));
  CHECK(e.code() == Errc::corrupt);
  CHECK_THAT(e.what(), Catch::Contains(expected) && Catch::Contains("tampered.ferry"));
}

TEST_CASE("export's read-back check finds changed bytes of a 3.0 bundle without decoding operations", "[bundle][damage]") {
  Fixture f(3);
  const std::string device = f.a.engine.device_id().to_string();
  const auto [sql, expected] = GENERATE_COPY(table<std::string, std::string>({
      {kFlipValueOfOperation2, "operations of device " + device + " do not end at the chain head"},
      {kRemoveOperation2, "expected operation 2"},
      {kChangeManifest, "content hash does not match"}}));
  // (A changed range is refused when the bundle is opened: its head signature no longer verifies.)
  INFO(sql);
  bundle::Reader reader(f.tampered(sql));
  CHECK_THROWS_WITH(reader.check_content(), Catch::Contains(expected));
  bundle::Reader untouched(f.good);
  CHECK_NOTHROW(untouched.check_content());
}

TEST_CASE("what is not a bundle file is refused before SQLite sees it", "[bundle][damage]") {
  Fixture f;
  SECTION("a text file") {
    test::write_file(f.dir.file("notes.txt"), {'h', 'e', 'l', 'l', 'o', '\n'});
    CHECK_THAT(f.refusal(f.dir.file("notes.txt")).what(), Catch::Contains("not a ferry bundle"));
  }
  SECTION("an ordinary SQLite database") {
    test::exec(f.dir.file("other.db"), "CREATE TABLE x(y)");
    CHECK_THAT(f.refusal(f.dir.file("other.db")).what(), Catch::Contains("wrong application id"));
  }
  SECTION("a folder") {
    CHECK_THAT(f.refusal(f.dir.path()).what(), Catch::Contains("not a regular file"));
  }
  SECTION("a symbolic link") {
    REQUIRE(::symlink(f.good.c_str(), f.dir.file("link.ferry").c_str()) == 0);
    CHECK_THAT(f.refusal(f.dir.file("link.ferry")).what(), Catch::Contains("symbolic link"));
  }
  SECTION("a FIFO does not block") {
    REQUIRE(::mkfifo(f.dir.file("fifo").c_str(), 0600) == 0);
    CHECK_THAT(f.refusal(f.dir.file("fifo")).what(), Catch::Contains("not a regular file"));
  }
}

TEST_CASE("a table name made to inject SQL is only ever data", "[bundle][security]") {
  test::TempDir dir;
  const std::string hostile = "x\"; DROP TABLE items; --";
  const std::string ddl = "CREATE TABLE items(id INTEGER PRIMARY KEY); CREATE TABLE \"x\"\"; DROP TABLE items; --\"(id INTEGER PRIMARY KEY, \"v\"\"); DROP TABLE items; --\" TEXT)";
  Replica a(dir, "a", ddl), b(dir, "b", ddl), c(dir, "c", "CREATE TABLE items(id INTEGER PRIMARY KEY)");
  a.sql("INSERT INTO \"x\"\"; DROP TABLE items; --\" VALUES(1, 'boom')");
  ExportOptions all;
  all.all = true;
  a.engine.export_bundle(dir.file("h.ferry"), all);
  CHECK(b.engine.import_bundle(dir.file("h.ferry")).applied == 1);
  CHECK(test::count(b.path, "SELECT count(*) FROM items") == 0);  // Still there.
  CHECK(b.dump(hostile) == "1|'boom'\n");
  try {
    (void)c.engine.import_bundle(dir.file("h.ferry"));
    FAIL("imported into a database without that table");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("does not track"));
  }
  CHECK(test::count(c.path, "SELECT count(*) FROM items") == 0);
}

TEST_CASE("table and column names from a bundle are shown escaped in refusals", "[bundle][security]") {
  test::TempDir dir;
  const std::string ddl = "CREATE TABLE \"t\x1b[2J\"(id INTEGER PRIMARY KEY, \"c\x07\")";
  Replica a(dir, "a", ddl), lacks_table(dir, "b", "CREATE TABLE items(id INTEGER PRIMARY KEY)"),
      lacks_column(dir, "c", "CREATE TABLE \"t\x1b[2J\"(id INTEGER PRIMARY KEY)");
  a.sql("INSERT INTO \"t\x1b[2J\" VALUES(1, 'x')");
  ExportOptions all;
  all.all = true;
  a.engine.export_bundle(dir.file("h.ferry"), all);
  for (Replica* r : {&lacks_table, &lacks_column}) {
    try {
      (void)r->engine.import_bundle(dir.file("h.ferry"));
      FAIL("imported a table or column the database lacks");
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(e.code() == Errc::refused);
      CHECK_THAT(e.what(), Catch::Contains("t\\x1b[2J"));
      CHECK(std::string(e.what()).find_first_of("\x1b\x07") == std::string::npos);
    }
  }
}

TEST_CASE("an export that fails midway leaves no file and changes nothing", "[bundle][atomic]") {
  Fixture f;
  const auto before = test::read_file(f.good);
  ExportOptions all;
  all.all = true;
  {
    // Writes to the bundle being built fail once 8 KiB of it are written: midway through this one.
    test::FaultyDisk disk(".ferry-export-", 8192, SQLITE_IOERR_WRITE);
    CHECK_THROWS_AS(f.a.engine.export_bundle(f.good, all), Error);
    CHECK_THROWS_AS(f.a.engine.export_bundle(f.dir.file("new.ferry"), all), Error);
  }
  CHECK(test::read_file(f.good) == before);  // The earlier bundle at the path is intact.
  struct stat st;
  CHECK(::stat(f.dir.file("new.ferry").c_str(), &st) != 0);
  const auto leftovers = test::run("ls -A " + test::shell_quote(f.dir.path()) + " | grep -c ferry-export || true");
  CHECK(leftovers.out == "0\n");
  CHECK(f.a.engine.export_bundle(f.dir.file("new.ferry"), all).operations == 3);
}

TEST_CASE("an export to a folder that does not exist says so", "[bundle]") {
  Fixture f;
  ExportOptions all;
  all.all = true;
  CHECK_THROWS_WITH(f.a.engine.export_bundle(f.dir.file("no/such/dir/x.ferry"), all), Catch::Contains("cannot create a file in"));
}

TEST_CASE("a refused bundle leaves no private copy behind", "[bundle][damage]") {
  Fixture f;
  test::TempDir scratch;
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", scratch.path().c_str(), 1);
  // Refused by the reader's constructor (header, then signatures), and by the scan.
  CHECK_THROWS_AS(inspect_bundle(f.with_bytes({'x'})), Error);
  CHECK_THROWS_AS(f.b.engine.import_bundle(f.tampered(kChangeLastHash)), Error);
  CHECK_THROWS_AS(f.b.engine.import_bundle(f.tampered(kChangeManifest)), Error);
  old ? ::setenv("TMPDIR", saved.c_str(), 1) : ::unsetenv("TMPDIR");
  std::size_t left = 0;
  for (const auto& entry : std::filesystem::directory_iterator(scratch.path())) {
    INFO(entry.path());
    ++left;
  }
  CHECK(left == 0);
}

TEST_CASE("a bundle holds nothing of the database but the operations it carries", "[bundle][security]") {
  // RELIABILITY EX-03: no row of an untracked table, present or deleted, and no
  // operation the peer already holds, reaches the bytes of the file.
  test::TempDir dir;
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};
  a.sql("CREATE TABLE notes(text TEXT)");  // Never tracked.
  auto canary = [](const char* kind, int i) { return std::string("canary-") + kind + "-" + std::to_string(i) + "-x7Q"; };
  for (int i = 0; i < 100; ++i) {
    a.sql("INSERT INTO notes VALUES('" + canary("untracked", i) + "')");
    a.sql("INSERT INTO items VALUES(" + std::to_string(i) + ", '" + canary("sent", i) + "', 1.5)");
  }
  a.sql("DELETE FROM notes WHERE rowid % 2 = 0");
  (void)test::exchange(a, b, dir);  // b holds every operation so far,
  (void)test::exchange(b, a, dir);  // and a learns so from b's bundle.
  a.sql("INSERT INTO items VALUES(1000, '" + canary("new", 0) + "', 2.5); DELETE FROM items WHERE id < 50");
  const std::string file = dir.file("next.ferry");
  ExportOptions options;
  options.peer = b.engine.device_id().to_string();
  const auto summary = a.engine.export_bundle(file, options);
  REQUIRE(summary.operations == 51);
  const auto bytes = test::read_file(file);
  const std::string text(bytes.begin(), bytes.end());
  CHECK(text.find(canary("new", 0)) != std::string::npos);  // What it carries is there, readable...
  int leaked = 0;
  for (int i = 0; i < 100; ++i)
    for (const char* kind : {"untracked", "sent"}) leaked += text.find(canary(kind, i)) != std::string::npos ? 1 : 0;
  CHECK(leaked == 0);  // ...and nothing else is.
}
