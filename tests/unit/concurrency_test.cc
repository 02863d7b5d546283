// Concurrency: an application process keeps writing to a tracked table while
// ferry imports and exports on the same database. No application write is
// lost or captured twice, every import finishes (waiting on SQLite's busy
// timeout), and the devices converge afterwards.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, v TEXT, n INTEGER)";
constexpr int kInserts = 300;
constexpr int kUpdates = 100;

// The application: its own process, its own plain connection, one transaction
// per statement, as an app that never heard of ferry would write.
[[noreturn]] void application(const std::string& path) {
  sqlite3* db = nullptr;
  auto fail = [&](const char* what) {
    std::fprintf(stderr, "application: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    ::_exit(1);
  };
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) fail("open");
  sqlite3_busy_timeout(db, 10000);
  for (int i = 1; i <= kInserts + kUpdates; ++i) {
    const std::string sql = i <= kInserts
        ? "INSERT INTO items VALUES(" + std::to_string(100000 + i) + ", 'app-" + std::to_string(i) + "', 0)"
        : "UPDATE items SET n = n + 1 WHERE id = " + std::to_string(100000 + (i - kInserts) * 3);
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql.c_str());
    ::usleep(2000);
  }
  sqlite3_close(db);
  ::_exit(0);
}

}  // namespace

TEST_CASE("an application writing while ferry imports and exports loses nothing and converges", "[concurrency]") {
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema);
  test::Replica b(dir, "b", kSchema);
  const pid_t app = ::fork();
  if (app == 0) application(a.path);

  int rounds = 0, status = 0;
  bool running = true;
  while (running) {
    ++rounds;
    b.sql("INSERT INTO items VALUES(" + std::to_string(rounds) + ", 'b', " + std::to_string(rounds) + ")");
    {
      // Fresh engines each round, as separate `ferry` commands would be.
      auto on_a = Engine::open(a.path);
      ExportOptions to_b;
      to_b.peer = b.engine.device_id().to_string();
      on_a.export_bundle(dir.file("a-to-b.ferry"), to_b);
      (void)b.engine.import_bundle(dir.file("a-to-b.ferry"));
      ExportOptions to_a;
      to_a.peer = on_a.device_id().to_string();
      b.engine.export_bundle(dir.file("b-to-a.ferry"), to_a);
      (void)on_a.import_bundle(dir.file("b-to-a.ferry"));
    }
    running = ::waitpid(app, &status, WNOHANG) == 0;
  }
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  test::exchange(a, b, dir);
  test::exchange(b, a, dir);

  INFO(rounds << " rounds of import and export ran while the application wrote");
  CHECK(rounds > 3);
  // Every application write is there, once: A's own chain holds exactly one
  // operation per application statement.
  CHECK(test::count(a.path, "SELECT count(*) FROM items WHERE id > 100000") == kInserts);
  CHECK(test::count(a.path, "SELECT sum(n) FROM items WHERE id > 100000") == kUpdates);
  CHECK(a.engine.clock().get(a.engine.device_id()) == static_cast<std::uint64_t>(kInserts + kUpdates));
  CHECK(a.engine.verify().ok);
  CHECK(b.engine.verify().ok);
  CHECK(a.dump("items") == b.dump("items"));
  CHECK(test::count(b.path, "SELECT count(*) FROM items") == kInserts + rounds);
}
