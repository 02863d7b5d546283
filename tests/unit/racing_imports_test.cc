// Several programs on one database at once (RELIABILITY.md CC-03, CC-04).
// Two imports of one bundle started at the same moment apply it exactly once:
// one applies, the other waits for its lock and finds duplicates. An import
// stopped (SIGSTOP) while it holds the write lock makes another writer wait
// for FERRY_BUSY_TIMEOUT_MS and then fail with a database error that says
// another program holds the database, changing nothing; readers meanwhile
// see the database as it was; resumed (SIGCONT), the import completes, and
// the refused writer's import then succeeds.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "support/support.h"
#include "trust/keys.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

// A bundle of `rows` new rows from a device of its own, numbered from `first`.
std::string bundle_from(const test::TempDir& dir, const std::string& name, int first, int rows) {
  test::Replica r(dir, name, kSchema);
  r.sql("WITH RECURSIVE n(i) AS (SELECT " + std::to_string(first) + " UNION ALL SELECT i + 1 FROM n WHERE i < " +
        std::to_string(first + rows - 1) + ") INSERT INTO items SELECT i, 'item-' || i FROM n");
  const std::string bundle = dir.file(name + ".ferry");
  test::export_all(r, bundle);
  return bundle;
}

// A new copy, at `path`, of a database (and its key) no bundle was imported into.
void fresh_copy(const std::string& pristine, const std::string& path) {
  std::filesystem::copy_file(pristine, path);
  std::filesystem::copy_file(trust::key_path(pristine), trust::key_path(path));
}

bool exited_ok(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// FERRY_BUSY_TIMEOUT_MS for the connections opened while it lives (here and in children).
class BusyTimeout {
 public:
  explicit BusyTimeout(const char* ms) { ::setenv("FERRY_BUSY_TIMEOUT_MS", ms, 1); }
  ~BusyTimeout() { ::unsetenv("FERRY_BUSY_TIMEOUT_MS"); }
};

}  // namespace

TEST_CASE("two imports of one bundle started at the same moment apply it exactly once", "[import][concurrency][race]") {
  test::TempDir dir(/*prefer_memory=*/true);
  const std::string bundle = bundle_from(dir, "a", 1, 20);
  const std::string pristine = dir.file("pristine.db");
  { test::Replica b(dir, "pristine", kSchema); }
  const int races = 200;
  int second_waited = 0;
  for (int race = 0; race < races; ++race) {
    INFO("race " << race);
    const std::string db = dir.file("race-" + std::to_string(race) + ".db");
    fresh_copy(pristine, db);
    int go[2];
    REQUIRE(::pipe(go) == 0);
    pid_t importers[2];
    for (int i = 0; i < 2; ++i)
      importers[i] = test::in_child([&, i] {
        ::close(go[1]);
        char byte;
        (void)::read(go[0], &byte, 1);  // Both start when the pipe closes.
        const ImportSummary s = Engine::open(db).import_bundle(bundle);
        std::ofstream(db + "-" + std::to_string(i)) << s.applied << " " << s.duplicates;
      });
    ::close(go[0]);
    ::close(go[1]);
    for (const pid_t pid : importers) CHECK(exited_ok(pid));
    std::size_t applied = 0;
    for (int i = 0; i < 2; ++i) {
      std::size_t a = 0, d = 0;
      std::istringstream(read_text(db + "-" + std::to_string(i))) >> a >> d;
      CHECK(a + d == 20);  // Each saw the whole bundle: applied here, or already there.
      applied += a;
      second_waited += a == 0;
    }
    CHECK(applied == 20);  // Exactly once between them.
    Engine e = Engine::open(db);
    CHECK(e.verify().ok);
    CHECK(e.status().operations == 20);
    CHECK(test::count(db, "SELECT count(*) FROM items") == 20);
  }
  CHECK(second_waited == races);
}

TEST_CASE("an import stopped while it holds the write lock makes another writer fail after the busy timeout, "
          "and completes when resumed",
          "[import][concurrency][race]") {
  test::TempDir dir(/*prefer_memory=*/true);
  const std::string first = bundle_from(dir, "a", 1, 20), second = bundle_from(dir, "c", 1001, 5);
  const std::string pristine = dir.file("pristine.db");
  { test::Replica b(dir, "pristine", kSchema); }
  BusyTimeout wait_briefly("200");
  for (int run = 0; run < 20; ++run) {
    INFO("run " << run);
    const std::string db = dir.file("run-" + std::to_string(run) + ".db");
    fresh_copy(pristine, db);
    const pid_t importer = test::in_child([&] {
      // Stops itself once every operation is applied, inside the import's transaction.
      (void)Engine::open(db).import_bundle(first, [](std::size_t done, std::size_t total) {
        if (done == total) ::raise(SIGSTOP);
      });
    });
    int status = 0;
    REQUIRE(::waitpid(importer, &status, WUNTRACED) == importer);
    REQUIRE(WIFSTOPPED(status));

    Engine writer = Engine::open(db);
    const auto start = std::chrono::steady_clock::now();
    try {
      (void)writer.import_bundle(second);
      FAIL("an import went through while another held the write lock");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::database);
      CHECK_THAT(e.what(), Catch::Contains("another program holds the database"));
    }
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200));  // It waited first.
    CHECK(test::count(db, "SELECT count(*) FROM items") == 0);  // Readers see the database as it was.

    REQUIRE(::kill(importer, SIGCONT) == 0);
    CHECK(exited_ok(importer));
    CHECK(test::count(db, "SELECT count(*) FROM items") == 20);
    const ImportSummary retried = writer.import_bundle(second);
    CHECK(retried.applied == 5);
    CHECK(writer.verify().ok);
    CHECK(writer.status().operations == 25);
    CHECK(test::run("sqlite3 " + test::shell_quote(db) + " 'PRAGMA integrity_check'").out == "ok\n");
  }
}
