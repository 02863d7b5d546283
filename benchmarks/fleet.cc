#include "fleet.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "ferry/engine.h"
#include "ferry/error.h"
#include "timing.h"

namespace bench {
namespace {

namespace fs = std::filesystem;

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, price REAL, note TEXT)";

// One application connection, for the writes ferry's triggers capture.
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) fail("open " + path);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  // Sum of one integer query's first column over its rows.
  double sum(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) fail(sql);
    double total = 0;
    while (sqlite3_step(st) == SQLITE_ROW) total += sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return total;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }
  sqlite3* db_ = nullptr;
};

// A database with the items table, prepared by ferry and tracking it.
ferry::Engine new_device(const std::string& path, const std::string& name) {
  Db(path).exec(std::string("PRAGMA journal_mode=WAL; ") + kSchema);
  auto engine = ferry::Engine::init(path, name);
  engine.track("items");
  return engine;
}

void insert_rows(const std::string& path, int first, int count) {
  Db db(path);
  db.exec("BEGIN");
  db.exec("WITH RECURSIVE n(i) AS (SELECT " + std::to_string(first) + " UNION ALL SELECT i + 1 FROM n WHERE i < " +
          std::to_string(first + count - 1) +
          ") INSERT INTO items SELECT i, 'item-' || i, i % 1000, i * 0.01, printf('%040d', i * 7919) FROM n");
  db.exec("COMMIT");
}

// Bytes on disk of a closed database (its WAL checkpointed away on close).
double disk_bytes(const std::string& path) {
  double n = static_cast<double>(fs::file_size(path));
  if (fs::exists(path + "-wal")) n += static_cast<double>(fs::file_size(path + "-wal"));
  return n;
}

// One bundle of the hub's rows to the receiver, per operation.
struct Batch {
  double bytes_per_op = 0, export_us = 0, import_us = 0, growth_per_op = 0;
};

struct FleetResult {
  int devices = 0;
  // The first rows the hub writes after meeting the fleet follow all D
  // devices' operations; the next ones, after the receiver acknowledged them,
  // only the hub's own: a bundle's cost beyond that is its own O(D).
  Batch first, next;
  double log_bytes = 0, rows_bytes = 0, meta_bytes = 0;  // The hub's ferry_* tables, by what they hold.
  double build_seconds = 0;
};

// The hub writes `rows` rows from `first` on and sends them to the receiver, which imports them.
Batch send_rows(ferry::Engine& hub, const std::string& dir, const std::string& receiver_path, int first, int rows) {
  Batch b;
  insert_rows(hub.path(), first, rows);
  ferry::ExportOptions to_receiver;
  to_receiver.peer = "d1";
  const std::string file = dir + "/rows" + std::to_string(first) + ".ferry";
  auto t = Clock::now();
  const auto sent = hub.export_bundle(file, to_receiver);  // Seals, then writes: one step.
  b.export_us = since(t) * 1e6 / rows;
  if (sent.operations != static_cast<std::size_t>(rows))
    throw std::runtime_error("the hub sent " + std::to_string(sent.operations) + " operations, not " +
                             std::to_string(rows));
  b.bytes_per_op = static_cast<double>(sent.bytes) / rows;
  const double before = disk_bytes(receiver_path);
  {
    auto receiver = ferry::Engine::open(receiver_path);
    t = Clock::now();
    const auto got = receiver.import_bundle(file);
    b.import_us = since(t) * 1e6 / rows;
    if (got.applied != static_cast<std::size_t>(rows))
      throw std::runtime_error("the receiver applied " + std::to_string(got.applied) + " operations");
  }
  b.growth_per_op = (disk_bytes(receiver_path) - before) / rows;
  return b;
}

// One fleet of D devices, built, with its hub open: its batches are timed
// round-robin with the other sizes', so that a machine whose speed drifts
// over minutes moves every D's figures alike and the ratios hold.
struct Fleet {
  std::string dir;
  std::optional<ferry::Engine> hub;
  FleetResult r;
  int sent = 0;  // Rows the hub has written so far.
  bool failed = false;
};

void build(Fleet& f, int devices, int held_rows, bool everyone_announces) {
  FleetResult& r = f.r;
  const std::string& dir = f.dir;
  r.devices = devices;
  const auto build = Clock::now();
  const std::string receiver_path = dir + "/d1/d1.db";
  f.hub.emplace(new_device(dir + "/hub.db", "hub"));
  ferry::Engine& hub = *f.hub;
  // D − 1 devices write `held_rows` rows between them (at least one each) and
  // send them to the hub; d1 is kept as the receiver.
  const int writers = devices - 1;
  for (int i = 1; i < devices; ++i) {
    const std::string sub = dir + "/d" + std::to_string(i), path = sub + "/d" + std::to_string(i) + ".db";
    fs::create_directories(sub);
    {
      auto device = new_device(path, "d" + std::to_string(i));
      const int share = std::max(1, held_rows / writers + (i <= held_rows % writers ? 1 : 0));
      insert_rows(path, 1000000000 + i * 100000, share);
      ferry::ExportOptions all;
      all.all = true;
      device.export_bundle(sub + "/out.ferry", all);
    }
    (void)hub.import_bundle(sub + "/out.ferry");
    if (i != 1 && !everyone_announces) fs::remove_all(sub);
  }
  {  // The receiver gets the fleet and says so, so the hub sends it only what it lacks.
    ferry::ExportOptions all;
    all.all = true;
    hub.export_bundle(dir + "/fleet.ferry", all);
    auto receiver = ferry::Engine::open(receiver_path);
    (void)receiver.import_bundle(dir + "/fleet.ferry");
    ferry::ExportOptions ack;
    ack.peer = "hub";
    receiver.export_bundle(dir + "/ack.ferry", ack);
  }
  (void)hub.import_bundle(dir + "/ack.ferry");
  // --announce: every device gets the fleet and says so, as after a full round
  // of syncing: the hub then keeps every peer's clock of D entries.
  for (int i = 2; everyone_announces && i < devices; ++i) {
    const std::string sub = dir + "/d" + std::to_string(i);
    {
      auto device = ferry::Engine::open(sub + "/d" + std::to_string(i) + ".db");
      (void)device.import_bundle(dir + "/fleet.ferry");
      ferry::ExportOptions ack;
      ack.peer = "hub";
      device.export_bundle(sub + "/ack.ferry", ack);
    }
    (void)hub.import_bundle(sub + "/ack.ferry");
    fs::remove_all(sub);
  }
  r.build_seconds = since(build);
}

void first_batch(Fleet& f, int rows) {
  f.r.first = send_rows(*f.hub, f.dir, f.dir + "/d1/d1.db", 1, rows);
  f.sent = rows;
}

// The receiver acknowledges what it got (its bundle is written against the
// hub's), and the hub sends the next rows. The fastest counts.
void next_batch(Fleet& f, int rows) {
  const std::string receiver_path = f.dir + "/d1/d1.db";
  {
    auto receiver = ferry::Engine::open(receiver_path);
    ferry::ExportOptions ack;
    ack.peer = "hub";
    receiver.export_bundle(f.dir + "/ack2.ferry", ack);
  }
  (void)f.hub->import_bundle(f.dir + "/ack2.ferry");
  const Batch b = send_rows(*f.hub, f.dir, receiver_path, 1 + f.sent, rows);
  f.sent += rows;
  Batch& next = f.r.next;
  if (next.export_us == 0) next = b;
  next.export_us = std::min(next.export_us, b.export_us);
  next.import_us = std::min(next.import_us, b.import_us);
}

// The hub's tables, read as they are on disk.
void measure_sizes(Fleet& f) {
  f.hub.reset();
  Db db(f.dir + "/hub.db");
  const std::string by_table =
      "SELECT sum(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name WHERE m.tbl_name ";
  FleetResult& r = f.r;
  r.log_bytes = db.sum(by_table + "= 'ferry_log'");
  r.rows_bytes = db.sum(by_table + "LIKE 'ferry\\_rows%' ESCAPE '\\'");
  r.meta_bytes = db.sum(by_table + "LIKE 'ferry\\_%' ESCAPE '\\' AND m.tbl_name != 'ferry_log' AND m.tbl_name "
                                   "NOT LIKE 'ferry\\_rows%' ESCAPE '\\'");
}

void print_batch(const char* which, const FleetResult& r, const Batch& b, const Batch& base, double build_seconds) {
  std::printf("%8d %-6s %10.1f %8.2f %10.2f %8.2f %10.2f %8.2f %12.1f %8.2f %14.1f %9.1f\n", r.devices, which,
              b.bytes_per_op, b.bytes_per_op / base.bytes_per_op, b.export_us, b.export_us / base.export_us, b.import_us,
              b.import_us / base.import_us, b.growth_per_op, b.growth_per_op / base.growth_per_op, r.meta_bytes / r.devices,
              build_seconds);
}

std::string batch_json(const Batch& b) {
  char out[200];
  std::snprintf(out, sizeof out,
                "{\"bytes_per_op\": %.1f, \"export_us_per_op\": %.2f, \"import_us_per_op\": %.2f, "
                "\"receiver_growth_per_op\": %.1f}",
                b.bytes_per_op, b.export_us, b.import_us, b.growth_per_op);
  return out;
}

}  // namespace

int run_fleet(const std::vector<int>& fleet_sizes, int rows, int reps, bool json, bool everyone_announces) {
  std::vector<FleetResult> results;
  int status = 0;
  // Every fleet holds as many rows as the largest has devices that wrote, so
  // that what differs between sizes is the fleet, not how much data there is
  // (a table of 10,000 rows costs more per insert than one of 1).
  const int held_rows = *std::max_element(fleet_sizes.begin(), fleet_sizes.end()) - 1;
  if (!json)
    std::printf("fleet: D devices that ever wrote %d rows between them; the hub writes %d rows and sends them to one "
                "device (first), then %d more after it acknowledged them (next: the fastest of %d)\n"
                "%8s %-6s %10s %8s %10s %8s %10s %8s %12s %8s %14s %9s\n",
                held_rows, rows, rows, reps, "D", "batch", "bytes/op", "x D=2", "export us", "x D=2", "import us", "x D=2", "growth B/op",
                "x D=2", "hub meta B/dev", "build s");
  // Every fleet is built first; then the first batches, then the next ones
  // round-robin, each D's in the same minutes as the others'.
  std::vector<Fleet> fleets;
  fleets.reserve(fleet_sizes.size());
  auto attempt = [&](Fleet& f, auto&& step) {
    if (f.failed) return;
    try {
      step();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ferry_bench --fleet: D = %d could not be measured: %s\n", f.r.devices, e.what());
      status = 1;
      f.failed = true;
      f.hub.reset();
    }
  };
  for (int d : fleet_sizes) {
    char tmpl[] = "/tmp/ferry-fleet-XXXXXX";
    Fleet& f = fleets.emplace_back();
    f.r.devices = d;
    attempt(f, [&] {
      if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error(std::string("cannot make ") + tmpl + ": " + std::strerror(errno));
      f.dir = tmpl;
      build(f, d, held_rows, everyone_announces);
    });
  }
  for (Fleet& f : fleets) attempt(f, [&] { first_batch(f, rows); });
  for (int rep = 0; rep < reps; ++rep)
    for (Fleet& f : fleets) attempt(f, [&] { next_batch(f, rows); });
  for (Fleet& f : fleets) {
    attempt(f, [&] { measure_sizes(f); });
    if (!f.dir.empty()) fs::remove_all(f.dir);
    if (!f.failed) results.push_back(f.r);
  }
  for (const FleetResult& r : results) {
    const FleetResult& base = results.front();
    if (json) {
      std::printf("{\"fleet\": %d, \"held_rows\": %d, \"rows\": %d, \"first\": %s, \"next\": %s, \"hub_log_bytes\": %.0f, "
                  "\"hub_rows_bytes\": %.0f, \"hub_meta_bytes\": %.0f, \"build_seconds\": %.1f}\n",
                  r.devices, held_rows, rows, batch_json(r.first).c_str(), batch_json(r.next).c_str(), r.log_bytes, r.rows_bytes,
                  r.meta_bytes, r.build_seconds);
    } else {
      print_batch("first", r, r.first, base.first, r.build_seconds);
      print_batch("next", r, r.next, base.next, r.build_seconds);
    }
  }
  if (!json && !results.empty())
    std::printf("ratios are to the same batch at the first D measured; the target is at most 1.3 at every D. The "
                "first batch's first operation follows all D devices, which the bundle must name (16 bytes each). "
                "hub meta: its ferry_* tables other than the log and the rows' merge state (devices, keys, clocks, "
                "heads), per device%s\n",
                everyone_announces ? ", every device having announced its clock" : ", one device having announced");
  return status;
}

}  // namespace bench
