// Power loss during an import (RELIABILITY.md ST-03). At each sync an import
// makes, opening the database included, the power goes out instead, and the
// disk is found as a power cut could leave it (test::PowerCut: each write since
// its file's last sync applied, dropped or turned to garbage; ten patterns per
// sync, or FERRY_POWER_PATTERNS). Each time, the database reopened from that disk passes
// integrity_check and verify, holds the import wholly or not at all, and
// completes it when the import runs again. And an import that reported success
// is there whole after a power cut that follows it at once. After a cut, an
// import on a disk that fails at any write fails whole (ST-07).
#include <catch2/catch.hpp>
#include <filesystem>
#include <limits>

#include "support/faulty_vfs.h"
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
  const int patterns = test::env_count("FERRY_POWER_PATTERNS", 10);
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

// RELIABILITY.md ST-07: the next import after a power cut runs on a disk that
// fails (an I/O error) once it has written k bytes, for k = 0, 2 KiB, 4 KiB...
// until it succeeds. Each failure is a database error that leaves the
// database as the cut left it; the import that succeeds holds everything.
TEST_CASE("after a power cut, an import on a disk that fails at any write fails whole, then completes",
          "[import][crash][power]") {
  test::TempDir dir;
  const std::string bundle = bundle_of(dir, 100);
  const std::string pristine = dir.file("pristine.db");
  { test::Replica b(dir, "pristine", kSchema); }
  const std::string whole = dir.file("whole.db");
  copy_pristine(pristine, whole);
  (void)Engine::open(whole).import_bundle(bundle);
  const std::string expected = test::dump(whole, "items");
  int failures = 0;
  for (int at = 1; at <= 4; ++at) {
    INFO("the power cut at sync " << at);
    const std::string cut_dir = dir.file("cut-" + std::to_string(at));
    std::filesystem::create_directory(cut_dir);
    copy_pristine(pristine, cut_dir + "/b.db");
    {
      test::PowerCut cut(cut_dir + "/b.db", at, static_cast<std::uint64_t>(at), cut_dir + "/image");
      try {
        (void)Engine::open(cut_dir + "/b.db").import_bundle(bundle);
      } catch (const Error&) {
      }
      if (!cut.cut()) break;  // The import has fewer syncs.
    }
    const std::string image = cut_dir + "/image/b.db";
    std::filesystem::copy_file(trust::key_path(pristine), trust::key_path(image));
    const std::string left = test::dump(image, "items");
    for (std::int64_t budget = 0;; budget += 2048) {
      INFO("the disk fails after " << budget << " bytes");
      REQUIRE(budget < 4 * 1024 * 1024);
      const std::string attempt = cut_dir + "/attempt";
      std::filesystem::remove_all(attempt);
      std::filesystem::copy(cut_dir + "/image", attempt);
      bool done = false;
      try {
        test::FaultyDisk disk(attempt + "/b.db", budget, SQLITE_IOERR_WRITE);
        (void)Engine::open(attempt + "/b.db").import_bundle(bundle);
        done = true;
      } catch (const Error& e) {
        CHECK(e.code() == Errc::database);
        ++failures;
      }
      CHECK(test::run("sqlite3 " + test::shell_quote(attempt + "/b.db") + " 'PRAGMA integrity_check'").out == "ok\n");
      CHECK(Engine::open(attempt + "/b.db").verify().ok);
      if (done) {
        CHECK(test::dump(attempt + "/b.db", "items") == expected);
        break;
      }
      CHECK(test::dump(attempt + "/b.db", "items") == left);  // The failure changed nothing.
    }
  }
  WARN(failures << " imports after a power cut failed on a failing disk, each changing nothing");
  CHECK(failures > 0);
}
