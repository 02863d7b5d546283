// Peak memory of the imports whose input is not the bundle in hand (issue 26,
// item 8): a database holding N pending operations, a one-operation import
// into it (which must not pay for the pending set), the import that then
// applies them all, and a snapshot of N rows -- against a clean import of the
// same N operations, and against raw SQLite inserting the N rows and SQLite's
// session extension applying their changeset, measured in the same run.
//
// Every step runs in a child process of its own, on files the steps before it
// left, so each peak RSS is that step's alone.
//
//   memory_bench [--ops N]    (default 1,000,000; CI runs 2,000 as a smoke test)
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "ferry/engine.h"

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, note TEXT)";
const char* kInsert =
    "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2) "
    "INSERT INTO items SELECT i, 'item ' || i, i % 97, printf('%040d', i * 7919) FROM n";

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "memory_bench: %s\n", what.c_str());
  std::exit(1);
}

void sql(sqlite3* db, const char* text, sqlite3_int64 first = 0, sqlite3_int64 last = 0) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, text, -1, &st, nullptr) != SQLITE_OK) fail(sqlite3_errmsg(db));
  if (first != 0) sqlite3_bind_int64(st, 1, first), sqlite3_bind_int64(st, 2, last);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) fail(sqlite3_errmsg(db));
}

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) fail("cannot open " + path);
  }
  ~Db() { sqlite3_close(db); }
};

// A device with the items table tracked.
ferry::Engine device(const std::string& path, const char* name) {
  { Db d(path); sql(d.db, kSchema); }
  ferry::Engine e = ferry::Engine::init(path, name);
  e.track("items");
  return e;
}

void insert(const std::string& path, sqlite3_int64 first, sqlite3_int64 last) {
  Db d(path);
  sql(d.db, "BEGIN");
  sql(d.db, kInsert, first, last);
  sql(d.db, "COMMIT");
}

void copy_device(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::copy_file(from + ".key", to + ".key", fs::copy_options::overwrite_existing);
}

struct Step {
  double seconds = 0;
  double peak_mib = 0;
};

// Runs `fn` in a child process; its wall time and peak RSS.
Step in_child(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    try {
      fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "memory_bench: %s\n", e.what());
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("a step failed");
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), ru.ru_maxrss / 1024.0};
}

}  // namespace

int main(int argc, char** argv) {
  long long n = 1000000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ops") == 0 && i + 1 < argc) n = std::atoll(argv[++i]);
    else fail(std::string("unknown argument ") + argv[i] + " (usage: memory_bench [--ops N])");
  }
  if (n < 2) fail("--ops must be at least 2");
  char tmpl[] = "/tmp/ferry-memory-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) fail("cannot make a temporary folder");
  const std::string dir = tmpl;
  auto at = [&](const char* name) { return dir + "/" + name; };

  // Bundles: a's first operation, its next n (all pending without the first), everything
  // at once, a snapshot, and one operation of another device.
  in_child([&] {
    ferry::Engine a = device(at("a.db"), "a");
    insert(at("a.db"), 1, 1);
    ferry::ExportOptions all;
    all.all = true;
    a.export_bundle(at("first.ferry"), all);
    insert(at("a.db"), 2, n + 1);
    ferry::ExportOptions tail;
    tail.since = a.clock();
    tail.since->set(a.device_id(), 1);
    a.export_bundle(at("tail.ferry"), tail);
    a.export_bundle(at("all.ferry"), all);
    ferry::ExportOptions snapshot;
    snapshot.snapshot = true;
    a.export_bundle(at("snapshot.ferry"), snapshot);
    ferry::Engine c = device(at("c.db"), "c");
    insert(at("c.db"), n + 10, n + 10);
    c.export_bundle(at("one.ferry"), all);
    (void)device(at("b.db"), "b");
  });

  const Step raw = in_child([&] {
    { Db d(at("raw.db")); sql(d.db, kSchema); }
    insert(at("raw.db"), 1, n + 1);
  });
  const Step session = in_child([&] {
    Db source(at("session-source.db")), target(at("session-target.db"));
    sql(source.db, kSchema);
    sql(target.db, kSchema);
    sqlite3_session* s = nullptr;
    if (sqlite3session_create(source.db, "main", &s) != SQLITE_OK || sqlite3session_attach(s, "items") != SQLITE_OK)
      fail("session");
    sql(source.db, "BEGIN");
    sql(source.db, kInsert, 1, n + 1);
    sql(source.db, "COMMIT");
    int size = 0;
    void* changes = nullptr;
    if (sqlite3session_changeset(s, &size, &changes) != SQLITE_OK) fail("changeset");
    sqlite3session_delete(s);
    auto abort_on_conflict = [](void*, int, sqlite3_changeset_iter*) { return SQLITE_CHANGESET_ABORT; };
    if (sqlite3changeset_apply(target.db, size, changes, nullptr, abort_on_conflict, nullptr) != SQLITE_OK)
      fail(sqlite3_errmsg(target.db));
    sqlite3_free(changes);
  });

  // Each import must do what its row says: so many operations applied, so many left pending.
  auto import_into = [&](const char* db, const char* bundle, long long applied, long long pending) {
    return in_child([&] {
      const ferry::ImportSummary s = ferry::Engine::open(at(db)).import_bundle(at(bundle));
      if (static_cast<long long>(s.applied) != applied || static_cast<long long>(s.pending) != pending)
        fail(std::string(bundle) + " into " + db + ": applied " + std::to_string(s.applied) + ", pending " +
             std::to_string(s.pending) + "; expected " + std::to_string(applied) + " and " + std::to_string(pending));
    });
  };
  copy_device(at("b.db"), at("clean.db"));
  const Step clean = import_into("clean.db", "all.ferry", n + 1, 0);
  copy_device(at("b.db"), at("pending.db"));
  const Step pend = import_into("pending.db", "tail.ferry", 0, n);
  copy_device(at("pending.db"), at("one.db"));
  const Step one = import_into("one.db", "one.ferry", 1, n);
  const Step drain = import_into("pending.db", "first.ferry", n + 1, 0);
  copy_device(at("b.db"), at("snap.db"));
  const Step snap = import_into("snap.db", "snapshot.ferry", n + 1, 0);
  std::filesystem::remove_all(dir);

  std::printf("memory_bench: %lld operations (one row each)\n", n);
  std::printf("%-44s %9s %10s %12s %12s\n", "step", "seconds", "peak MiB", "MiB / clean", "MiB / session");
  auto row = [&](const char* what, const Step& s) {
    std::printf("%-44s %9.2f %10.1f %12.2f %12.2f\n", what, s.seconds, s.peak_mib, s.peak_mib / clean.peak_mib,
                s.peak_mib / session.peak_mib);
  };
  row("raw SQLite: insert the rows", raw);
  row("session extension: apply their changeset", session);
  row("ferry: clean import of every operation", clean);
  row("ferry: import, all of it left pending", pend);
  row("ferry: 1-operation import beside the pending", one);
  row("ferry: the import that applies every pending", drain);
  row("ferry: import of a snapshot of the rows", snap);
  return 0;
}
