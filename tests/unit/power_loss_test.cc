// Power loss during an import (RELIABILITY.md ST-03). At each sync an import
// makes, opening the database included, the power goes out instead, and the
// disk is found as a power cut could leave it (test::PowerCut: each write since
// its file's last sync applied, dropped or turned to garbage; ten patterns per
// sync, or FERRY_POWER_PATTERNS). Each time, the database reopened from that disk passes
// integrity_check and verify, holds the import wholly or not at all, and
// completes it when the import runs again. And an import that reported success
// is there whole after a power cut that follows it at once.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "support/power_cut.h"
#include "support/support.h"
#include "trust/keys.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)";

// `operations` rows inserted at a, in a bundle for whoever imports it.
std::string bundle_of(const test::TempDir& dir, int operations) {
  test::Replica a(dir, "a", kSchema);
  a.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(operations) +
        ") INSERT INTO items SELECT i, 'item-' || i, i % 7 FROM n");
  const std::string bundle = dir.file("a.ferry");
  test::export_all(a, bundle);
  return bundle;
}

// A fresh copy of the pristine database (and its key) at `path`.
void copy_pristine(const std::string& pristine, const std::string& path) {
  std::filesystem::copy_file(pristine, path);
  std::filesystem::copy_file(trust::key_path(pristine), trust::key_path(path));
}

// The database the power cut left in `image` (its key beside it) is sound and
// holds the import wholly or not at all; importing again completes it.
// Returns whether it held the import.
bool check_image(const std::string& image, const std::string& key_from, const std::string& bundle,
                 const std::string& expected, std::size_t operations) {
  std::filesystem::copy_file(trust::key_path(key_from), trust::key_path(image));
  CHECK(test::run("sqlite3 " + test::shell_quote(image) + " 'PRAGMA integrity_check'").out == "ok\n");
  Engine e = Engine::open(image);
  CHECK(e.verify().ok);
  const std::string rows = test::dump(image, "items");
  const bool none = e.status().operations == 0 && rows.empty();
  const bool all = e.status().operations == operations && rows == expected;
  CHECK((none || all));
  const ImportSummary again = e.import_bundle(bundle);
  CHECK(again.applied + again.duplicates == operations);
  CHECK(test::dump(image, "items") == expected);
  return all;
}

}  // namespace

TEST_CASE("an import cut by a power loss at any sync is all or nothing, and completes when run again",
          "[import][crash][power]") {
  const char* env = std::getenv("FERRY_POWER_PATTERNS");
  const int patterns = env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 10;
  for (const int operations : {100, 1000}) {
    test::TempDir dir;
    const std::string bundle = bundle_of(dir, operations);
    const std::string pristine = dir.file("pristine.db");
    { test::Replica b(dir, "pristine", kSchema); }
    std::string expected;
    int syncs = 0;
    {  // Uncut: the import's syncs, and what it leaves.
      const std::string db = dir.file("whole.db");
      copy_pristine(pristine, db);
      test::PowerCut never(db, std::numeric_limits<int>::max(), 0, dir.file("unused"));
      (void)Engine::open(db).import_bundle(bundle);
      syncs = never.syncs();
      expected = test::dump(db, "items");
    }
    INFO(operations << " operations, " << syncs << " syncs");
    REQUIRE(syncs >= 2);
    int held = 0, lost = 0, dropped_or_garbage = 0;
    for (int at = 1; at <= syncs; ++at)
      for (int pattern = 0; pattern < patterns; ++pattern) {
        INFO("the power cut at sync " << at << ", pattern " << pattern);
        const std::string trial = dir.file("cut-" + std::to_string(at) + "-" + std::to_string(pattern));
        std::filesystem::create_directory(trial);
        copy_pristine(pristine, trial + "/b.db");
        {
          test::PowerCut cut(trial + "/b.db", at, 1000003 * static_cast<std::uint64_t>(at) + pattern, trial + "/image");
          try {
            (void)Engine::open(trial + "/b.db").import_bundle(bundle);
          } catch (const Error&) {  // The sync that failed: the power went out there.
          }
          REQUIRE(cut.cut());
          dropped_or_garbage += cut.fates(1) + cut.fates(2);
        }
        const bool all = check_image(trial + "/image/b.db", pristine, bundle, expected, static_cast<std::size_t>(operations));
        ++(all ? held : lost);
        std::filesystem::remove_all(trial);
      }
    {  // Success reported, then the power goes out: the import is there.
      const std::string run = dir.file("after");
      copy_pristine(pristine, run + ".db");
      {
        test::PowerCut cut(run + ".db", std::numeric_limits<int>::max(), 7, run);
        Engine e = Engine::open(run + ".db");
        (void)e.import_bundle(bundle);
        cut.cut_now();  // Before the connection closes (and checkpoints).
      }
      CHECK(check_image(run + "/after.db", pristine, bundle, expected, static_cast<std::size_t>(operations)));
    }
    WARN(operations << " operations, the power cut at each of " << syncs << " syncs in " << patterns << " ways: " << lost
                    << " left nothing, " << held << " the whole import; " << dropped_or_garbage
                    << " unsynced writes dropped or turned to garbage");
    CHECK(lost > 0);
    CHECK(dropped_or_garbage > 0);
  }
}
