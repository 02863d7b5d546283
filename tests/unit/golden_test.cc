// The golden files of bundle_format/examples/ (README.md §12): bundles of
// every format this ferry reads, written by tools/make_examples.sh, each with
// the rows it gives an empty database. A second implementation is checked
// against the same files.
#include <catch2/catch.hpp>

#include "support/support.h"

using namespace ferry;

namespace {

// A fresh database with the golden examples' schema, both tables tracked.
Engine golden_database(const std::string& examples, const std::string& db) {
  const auto schema = test::read_file(examples + "/schema.sql");
  test::exec(db, std::string(schema.begin(), schema.end()));
  auto e = Engine::init(db);
  e.track("items");
  e.track("tags");
  return e;
}

// Every row of the golden schema as type:hex, compared byte for byte with an examples' .expected file.
bool holds_expected_rows(const std::string& db, const std::string& expected_file) {
  const auto rows = test::run(
      "sqlite3 " + test::shell_quote(db) +
      " \"SELECT 'items', id, typeof(name)||':'||hex(name), typeof(qty)||':'||hex(qty), typeof(price)||':'||hex(price),"
      " typeof(photo)||':'||hex(photo) FROM items ORDER BY id;"
      " SELECT 'tags', item, typeof(tag)||':'||hex(tag), typeof(note)||':'||hex(note) FROM tags ORDER BY item, tag;\"");
  const auto expected = test::read_file(expected_file);
  return rows.out == std::string(expected.begin(), expected.end());
}

}  // namespace

TEST_CASE("the golden example bundles of formats 4.0, 3.0 and 2.0 verify and import to the same rows", "[bundle][golden]") {
  // 2.0 bundles stored each body whole; 3.0 delta bundles leave out the link; 4.0 compresses stored forms.
  const auto [folder, major] = GENERATE(table<std::string, unsigned>({{"", 4u}, {"/3.0", 3u}, {"/2.0", 2u}}));
  const std::string examples = std::string(FERRY_EXAMPLES_DIR) + folder;
  INFO(examples);
  CHECK(inspect_bundle(examples + "/basic.ferry").format_major == major);
  test::TempDir dir;
  const std::string db = dir.file("fresh.db");
  auto e = golden_database(examples, db);
  CHECK(verify_bundle(examples + "/basic.ferry").ok);
  CHECK(verify_bundle(examples + "/tail.ferry").ok);

  const auto tail = e.import_bundle(examples + "/tail.ferry");  // Arrives first: waits for 1-4.
  CHECK(tail.pending == 2);
  REQUIRE(tail.missing.size() == 1);
  CHECK(tail.missing[0].first == 1);
  CHECK(tail.missing[0].last == 4);
  const auto basic = e.import_bundle(examples + "/basic.ferry");
  CHECK(basic.applied == 6);  // Its own four, then the two that were pending.
  CHECK(basic.duplicates == 2);

  CHECK(holds_expected_rows(db, examples + "/basic.expected"));
  auto conn = test::app(db);
  auto price = conn.prepare("SELECT price FROM items WHERE id=2");
  REQUIRE(price.step());
  // SQLite stores an integral REAL of a REAL column as an integer, so the -0.0 the
  // example inserted was already +0.0 on the exporter; ferry carries what SQLite holds.
  CHECK(price.value(0) == Value::real(0.0));
}

TEST_CASE("the golden 4.0 snapshot carries its causal rows and starts a device with the expected rows",
          "[bundle][golden][snapshot]") {
  const std::string examples = FERRY_EXAMPLES_DIR;
  const std::string snapshot = examples + "/snapshot.ferry";
  CHECK(inspect_bundle(snapshot).snapshot);
  CHECK(verify_bundle(snapshot).ok);
  // b's first operation after importing a's six had seen them: the one row of b's chain.
  CHECK(test::count(snapshot, "SELECT count(*) FROM ferry_deps") == 1);
  CHECK(test::count(snapshot, "SELECT dep_seq FROM ferry_deps") == 6);
  test::TempDir dir;
  const std::string db = dir.file("fresh.db");
  auto e = golden_database(examples, db);
  (void)e.import_bundle(snapshot);
  CHECK(e.verify().ok);
  CHECK(holds_expected_rows(db, examples + "/snapshot.expected"));
  CHECK(test::count(db, "SELECT count(*) FROM ferry_deps") == 1);  // The receiver's index answers for b's past.
}

TEST_CASE("the golden 4.1 bundle names its addressee and a reference, and imports after the operations it follows",
          "[bundle][golden]") {
  const std::string examples = FERRY_EXAMPLES_DIR;
  const std::string addressed = examples + "/addressed.ferry";
  const BundleInfo info = inspect_bundle(addressed);
  CHECK(info.format_minor == 1);
  CHECK(info.addressee);
  CHECK(info.reference);
  CHECK(info.clock.entries().size() == 1);  // The exporter's own entry: its addressee had said it held the rest.
  CHECK(verify_bundle(addressed).ok);
  test::TempDir dir;
  const std::string db = dir.file("fresh.db");
  auto e = golden_database(examples, db);
  (void)e.import_bundle(examples + "/basic.ferry");
  CHECK(e.import_bundle(addressed).applied == 1);  // Not its addressee: it believes the entries given.
  CHECK(holds_expected_rows(db, examples + "/addressed.expected"));
}

TEST_CASE("the golden 4.2 bundle names its chains by device and scope and imports to the same rows",
          "[bundle][golden][scope]") {
  const std::string examples = std::string(FERRY_EXAMPLES_DIR) + "/4.2";
  const std::string bundle = examples + "/scoped.ferry";
  const BundleInfo info = inspect_bundle(bundle);
  CHECK(info.format_major == 4);
  CHECK(info.format_minor == 2);
  REQUIRE(info.scoped_chains.size() == 3);  // Its device's chains of 7, 8 and 'north'.
  for (const auto& c : info.scoped_chains) CHECK(c.device == info.exporter);
  REQUIRE(info.tables.size() == 1);
  CHECK(info.tables[0].scope == "clinic");
  CHECK(verify_bundle(bundle).ok);
  test::TempDir dir;
  auto make = [&](const std::string& name, const std::string& scope) {
    const std::string db = dir.file(name);
    const auto schema = test::read_file(examples + "/schema.sql");
    test::exec(db, std::string(schema.begin(), schema.end()));
    auto e = Engine::init(db);
    e.track("visits", scope);
    return e;
  };
  auto scoped = make("scoped.db", "clinic");
  CHECK(scoped.import_bundle(bundle).applied == 7);
  CHECK(scoped.verify().ok);
  const auto rows = test::run("sqlite3 " + test::shell_quote(dir.file("scoped.db")) +
                              " \"SELECT id, typeof(note)||':'||hex(note), typeof(clinic)||':'||hex(clinic) FROM visits "
                              "ORDER BY id\"");
  const auto expected = test::read_file(examples + "/scoped.expected");
  CHECK(rows.out == std::string(expected.begin(), expected.end()));
  auto shared = make("shared.db", "");  // Tracked otherwise: refused by name, changing nothing.
  CHECK_THROWS_AS(shared.import_bundle(bundle), Error);
  CHECK(test::count(dir.file("shared.db"), "SELECT count(*) FROM visits") == 0);
}
