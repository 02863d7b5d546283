#include "scopes.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "ferry/engine.h"
#include "ferry/error.h"
#include "timing.h"

namespace bench {
namespace {

namespace fs = std::filesystem;

const char* kSchema = "CREATE TABLE visits(id INTEGER PRIMARY KEY, clinic INTEGER NOT NULL, note TEXT, qty INTEGER)";

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  const int opened = sqlite3_open(path.c_str(), &db);
  char* error = nullptr;
  const int rc = opened == SQLITE_OK ? sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) : opened;
  const std::string why = error ? error : db ? sqlite3_errmsg(db) : "out of memory";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error(path + ": " + why);
}

// N rows, clinic i % S: what the hub writes, and what raw SQLite is timed writing.
std::string insert_rows(int rows, int scopes) {
  return "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(rows) +
         ") INSERT INTO visits SELECT i, i % " + std::to_string(scopes) +
         ", printf('visit %08d of a patient', i), i % 97 FROM n; COMMIT";
}

ferry::Engine device(const std::string& path, const std::string& name) {
  exec(path, std::string("PRAGMA journal_mode=WAL; ") + kSchema);
  auto e = ferry::Engine::init(path, name);
  e.track("visits", "clinic");
  return e;
}

struct Side {
  double export_s = 1e9, import_s = 1e9, bytes = 0, applied = 0;
};

// A new peer granted `reads`: the hub's export for it, and its import, timed.
void measure(ferry::Engine& hub, const std::string& dir, const std::string& name, const std::vector<std::string>& reads,
             Side& side) {
  const std::string path = dir + "/" + name + ".db", file = dir + "/" + name + ".ferry";
  for (const char* suffix : {"", "-wal", "-shm", ".key"}) fs::remove(path + suffix);
  fs::remove(file);
  auto peer = device(path, name);
  peer.fleet_join(hub.device_id().to_string(), hub.public_key(), "hub");
  ferry::GrantInfo grant;
  grant.read = reads;
  hub.grant(peer.device_id().to_string(), grant);
  (void)hub.seal();
  ferry::ExportOptions o;
  o.peer = peer.device_id().to_string();
  auto t = Clock::now();
  const auto sent = hub.export_bundle(file, o);
  side.export_s = std::min(side.export_s, since(t));
  side.bytes = static_cast<double>(sent.bytes);
  t = Clock::now();
  const auto got = peer.import_bundle(file);
  side.import_s = std::min(side.import_s, since(t));
  side.applied = static_cast<double>(got.applied);
}

}  // namespace

int run_scopes(int rows, int scopes, int reps, bool json) {
  const fs::path dir = fs::temp_directory_path() / ("ferry-bench-scopes-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    double raw_all = 1e9, raw_one = 1e9;
    for (int r = 0; r < reps; ++r) {
      for (int n : {rows, rows / scopes}) {
        const std::string path = (dir / "raw.db").string();
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
        exec(path, std::string("PRAGMA journal_mode=WAL; ") + kSchema);
        const auto t = Clock::now();
        exec(path, insert_rows(n, 1));
        (n == rows ? raw_all : raw_one) = std::min(n == rows ? raw_all : raw_one, since(t));
      }
    }
    auto hub = device((dir / "hub.db").string(), "hub");
    hub.fleet_init();
    exec(hub.path(), insert_rows(rows, scopes));
    (void)hub.seal();
    Side every, one;
    for (int r = 0; r < reps; ++r) {  // Alternating, so that a machine's drift moves both alike.
      measure(hub, dir.string(), "every", {"*"}, every);
      measure(hub, dir.string(), "one", {"7"}, one);
    }
    fs::remove_all(dir);
    const double share = 1.0 / scopes;
    if (json) {
      std::printf("{\"rows\": %d, \"scopes\": %d, \"every\": {\"bytes\": %.0f, \"export_s\": %.4f, \"import_s\": %.4f, "
                  "\"applied\": %.0f}, \"one\": {\"bytes\": %.0f, \"export_s\": %.4f, \"import_s\": %.4f, \"applied\": "
                  "%.0f}, \"raw_sqlite_s\": {\"every\": %.4f, \"one\": %.4f}}\n",
                  rows, scopes, every.bytes, every.export_s, every.import_s, every.applied, one.bytes, one.export_s,
                  one.import_s, one.applied, raw_all, raw_one);
      return 0;
    }
    std::printf("%d rows over %d scopes; a peer reading one scope against one reading all (target: about %.3f)\n",
                rows, scopes, share);
    std::printf("%-22s %14s %14s %10s\n", "", "every scope", "one scope", "share");
    std::printf("%-22s %14.0f %14.0f %10.4f\n", "operations applied", every.applied, one.applied, one.applied / every.applied);
    std::printf("%-22s %14.0f %14.0f %10.4f\n", "bundle bytes", every.bytes, one.bytes, one.bytes / every.bytes);
    std::printf("%-22s %14.4f %14.4f %10.4f\n", "export (s)", every.export_s, one.export_s, one.export_s / every.export_s);
    std::printf("%-22s %14.4f %14.4f %10.4f\n", "import (s)", every.import_s, one.import_s, one.import_s / every.import_s);
    std::printf("%-22s %14.4f %14.4f %10.4f\n", "raw SQLite insert (s)", raw_all, raw_one, raw_one / raw_all);
    std::printf("import / raw SQLite:  every scope %.1fx, one scope %.1fx\n", every.import_s / raw_all,
                one.import_s / raw_one);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferry_bench --scopes: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
}

}  // namespace bench
