// Crash safety: an import killed with SIGKILL at any moment leaves the database
// with all of the bundle or none of it, passing integrity_check and verify, and
// running the import again completes it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <random>

#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL)";

// Imports `bundle` into `db` in a child process; kills it after `delay` (if it is still running).
// Returns true when the child finished on its own before the delay ran out.
bool import_killed_after(const std::string& db, const std::string& bundle, std::chrono::microseconds delay) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      auto e = Engine::open(db);  // The child's own connection: none crosses the fork.
      (void)e.import_bundle(bundle);
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + delay;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return false;
    }
    ::usleep(50);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST_CASE("an import killed at any moment is all or nothing, and completes when run again", "[import][crash]") {
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema);
  a.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
        "INSERT INTO items SELECT i, 'item-' || i, i % 7, i * 0.25 FROM n; UPDATE items SET qty = qty + 1");
  ExportOptions all;
  all.all = true;
  const std::string bundle = dir.file("a.ferry");
  a.engine.export_bundle(bundle, all);
  const std::string expected = a.dump("items");

  const std::string pristine = dir.file("pristine.db");
  { test::Replica b(dir, "pristine-src", kSchema); }
  std::filesystem::copy_file(dir.file("pristine-src.db"), pristine);

  // How long a whole import takes here, so the kill points spread over it.
  const std::string timing = dir.file("timing.db");
  std::filesystem::copy_file(pristine, timing);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(import_killed_after(timing, bundle, std::chrono::seconds(60)));
  const auto whole = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);

  std::mt19937_64 rng(20261125);
  int killed_before_commit = 0, finished = 0;
  const int kill_points = 100;
  for (int k = 0; k < kill_points; ++k) {
    const std::string db = dir.file("victim-" + std::to_string(k) + ".db");
    std::filesystem::copy_file(pristine, db);
    const auto delay = std::chrono::microseconds(std::uniform_int_distribution<long>(0, whole.count() * 11 / 10)(rng));
    const bool done = import_killed_after(db, bundle, delay);
    INFO("kill point " << k << " after " << delay.count() << " us");
    CHECK(test::run("sqlite3 " + test::shell_quote(db) + " 'PRAGMA integrity_check'").out == "ok\n");
    auto e = Engine::open(db);
    CHECK(e.verify().ok);
    const std::size_t operations = e.status().operations;
    const std::string rows = test::dump(db, "items");
    const bool none = operations == 0 && rows.empty();
    const bool everything = operations == 2000 && rows == expected;
    CHECK((none || everything));
    if (done) CHECK(everything);
    if (none) ++killed_before_commit;
    else ++finished;
    const auto again = e.import_bundle(bundle);  // Running it again completes it, applying nothing twice.
    CHECK(again.applied + again.duplicates == 2000);
    CHECK(test::dump(db, "items") == expected);
    CHECK(e.status().operations == 2000);
    std::filesystem::remove(db);
  }
  WARN(kill_points << " kill points over a " << whole.count() / 1000 << " ms import: " << killed_before_commit
                   << " left nothing applied, " << finished << " left everything; none left a part");
  CHECK(killed_before_commit > 0);
}
