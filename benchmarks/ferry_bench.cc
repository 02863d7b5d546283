// ferry against raw SQLite and SQLite's session extension, on the same data,
// in the same run. Workload (the benchmark issue): items(id INTEGER PRIMARY
// KEY, name TEXT NOT NULL, qty INTEGER, price REAL, note TEXT), WAL and
// synchronous=NORMAL; insert N rows (each note 40 characters drawn
// pseudo-randomly from 64, as in the measurements of ../shared/PERFORMANCE.md,
// whose changeset compresses to 4.3 MB; --same-note gives every row the same
// note instead), update qty of every row, delete every
// tenth row (one transaction each); export the changes as each system's
// artifact; apply it to a fresh replica with the same empty schema.
//
// Apply is timed from the artifact to the committed replica: the replica's
// schema (and for ferry, init and track) is set up before the clock starts,
// and closing it (a WAL checkpoint) after it stops, alike for every system.
//
// Each (system, repetition) runs in a child process, so peak RSS is per
// system. Reported: median time per phase, operations per second, ratios to
// raw SQLite and to the session extension, artifact size raw and zstd -3.
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bundle_bytes.h"
#include "fleet.h"
#include "scopes.h"
#include "timing.h"
#include "floor.h"
#include "ferry/engine.h"

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, price REAL, note TEXT)";
const char* kPhases[] = {"insert", "update", "delete", "export", "apply"};

struct Result {
  double seconds[5] = {};
  double ops[5] = {};            // Operations each phase handled.
  double artifact_bytes = 0;
  double artifact_zstd = 0;      // 0 when zstd is not installed.
  double peak_rss_mib = 0;
  double field_bytes[bench::kFields] = {};  // ferry: per operation, by field of the encoding.
  bench::Floor floor;                        // ferry: its log and bundle written with nothing of ferry around them.
};

using bench::Clock;
using bench::since;

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "ferry_bench: %s: %s\n", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    std::exit(1);
  }
}

sqlite3* open_db(const std::string& path) {
  sqlite3* db = nullptr;
  check(sqlite3_open(path.c_str(), &db), db, "open");
  check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr), db, "pragma");
  return db;
}

void exec(sqlite3* db, const char* sql) { check(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql); }

bool same_note = false;  // --same-note: every row's note is 40 'n's (compresses to nothing).

// Row i's note: 40 characters of a 64-letter alphabet from a generator seeded by
// i, so every system and every run writes the same notes.
std::string note_of(int i) {
  static const char kLetters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (same_note) return std::string(40, 'n');
  std::uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(i) + 1;
  std::string note(40, ' ');
  for (char& c : note) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    c = kLetters[x >> 58];
  }
  return note;
}

// The three write phases, the same statements for every system.
void write_phases(sqlite3* db, int rows, Result& r) {
  sqlite3_stmt* st = nullptr;
  auto t = Clock::now();
  exec(db, "BEGIN");
  check(sqlite3_prepare_v2(db, "INSERT INTO items VALUES(?, ?, ?, ?, ?)", -1, &st, nullptr), db, "prepare");
  for (int i = 1; i <= rows; ++i) {
    const std::string name = "item-" + std::to_string(i), note = note_of(i);
    sqlite3_bind_int64(st, 1, i);
    sqlite3_bind_text(st, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, i % 1000);
    sqlite3_bind_double(st, 4, i * 0.01);
    sqlite3_bind_text(st, 5, note.c_str(), -1, SQLITE_TRANSIENT);
    check(sqlite3_step(st), db, "insert");
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  exec(db, "COMMIT");
  r.seconds[0] = since(t);
  r.ops[0] = rows;
  t = Clock::now();
  exec(db, "BEGIN");
  check(sqlite3_prepare_v2(db, "UPDATE items SET qty=? WHERE id=?", -1, &st, nullptr), db, "prepare");
  for (int i = 1; i <= rows; ++i) {
    sqlite3_bind_int64(st, 1, (i % 1000) + 1);
    sqlite3_bind_int64(st, 2, i);
    check(sqlite3_step(st), db, "update");
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  exec(db, "COMMIT");
  r.seconds[1] = since(t);
  r.ops[1] = rows;
  t = Clock::now();
  exec(db, "BEGIN");
  check(sqlite3_prepare_v2(db, "DELETE FROM items WHERE id=?", -1, &st, nullptr), db, "prepare");
  for (int i = 10; i <= rows; i += 10) {
    sqlite3_bind_int64(st, 1, i);
    check(sqlite3_step(st), db, "delete");
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  exec(db, "COMMIT");
  r.seconds[2] = since(t);
  r.ops[2] = rows / 10;
}

// Copies every row of items from one connection to another in one transaction.
void copy_rows(sqlite3* from, sqlite3* to) {
  sqlite3_stmt *rd = nullptr, *wr = nullptr;
  check(sqlite3_prepare_v2(from, "SELECT * FROM items", -1, &rd, nullptr), from, "prepare");
  check(sqlite3_prepare_v2(to, "INSERT INTO items VALUES(?, ?, ?, ?, ?)", -1, &wr, nullptr), to, "prepare");
  exec(to, "BEGIN");
  while (sqlite3_step(rd) == SQLITE_ROW) {
    for (int c = 0; c < 5; ++c) sqlite3_bind_value(wr, c + 1, sqlite3_column_value(rd, c));
    check(sqlite3_step(wr), to, "copy");
    sqlite3_reset(wr);
  }
  exec(to, "COMMIT");
  sqlite3_finalize(rd);
  sqlite3_finalize(wr);
}

double file_size(const std::string& p) { return static_cast<double>(std::filesystem::file_size(p)); }

double zstd_size(const std::string& p) {
  if (std::system("command -v zstd >/dev/null 2>&1") != 0) return 0;
  FILE* f = ::popen(("zstd -3 -q -c '" + p + "' | wc -c").c_str(), "r");
  double n = 0;
  if (f && std::fscanf(f, "%lf", &n) != 1) n = 0;
  if (f) ::pclose(f);
  return n;
}

// The export/apply phases handled `operations`; the artifact is the file at `path`.
void record_artifact(Result& r, const std::string& path, double operations) {
  r.ops[3] = r.ops[4] = operations;
  r.artifact_bytes = file_size(path);
  r.artifact_zstd = zstd_size(path);
}

Result run_raw(const std::string& dir, int rows) {
  Result r;
  sqlite3* db = open_db(dir + "/raw.db");
  exec(db, kSchema);
  write_phases(db, rows, r);
  auto t = Clock::now();  // Export: the final rows, written to a file.
  sqlite3* out = nullptr;
  check(sqlite3_open((dir + "/raw.artifact").c_str(), &out), out, "open");
  exec(out, "PRAGMA journal_mode=OFF");
  exec(out, kSchema);
  copy_rows(db, out);
  sqlite3_close(out);
  r.seconds[3] = since(t);
  sqlite3* replica = open_db(dir + "/raw-replica.db");
  exec(replica, kSchema);
  t = Clock::now();
  sqlite3* in = nullptr;
  check(sqlite3_open((dir + "/raw.artifact").c_str(), &in), in, "open");
  copy_rows(in, replica);
  r.seconds[4] = since(t);
  record_artifact(r, dir + "/raw.artifact", rows - rows / 10);
  sqlite3_close(in);
  sqlite3_close(replica);
  sqlite3_close(db);
  return r;
}

Result run_session(const std::string& dir, int rows) {
  Result r;
  sqlite3* db = open_db(dir + "/session.db");
  exec(db, kSchema);
  sqlite3_session* session = nullptr;
  check(sqlite3session_create(db, "main", &session), db, "session");
  check(sqlite3session_attach(session, "items"), db, "attach");
  write_phases(db, rows, r);
  auto t = Clock::now();
  int size = 0;
  void* changeset = nullptr;
  check(sqlite3session_changeset(session, &size, &changeset), db, "changeset");
  FILE* f = std::fopen((dir + "/session.changeset").c_str(), "wb");
  if (f == nullptr || std::fwrite(changeset, 1, static_cast<std::size_t>(size), f) != static_cast<std::size_t>(size) ||
      std::fclose(f) != 0) {
    std::fprintf(stderr, "ferry_bench: cannot write %s/session.changeset\n", dir.c_str());
    std::exit(1);
  }
  r.seconds[3] = since(t);
  sqlite3session_delete(session);
  sqlite3* replica = open_db(dir + "/session-replica.db");
  exec(replica, kSchema);
  t = Clock::now();
  auto on_conflict = [](void*, int, sqlite3_changeset_iter*) { return SQLITE_CHANGESET_ABORT; };
  check(sqlite3changeset_apply(replica, size, changeset, nullptr, on_conflict, nullptr), replica, "apply");
  r.seconds[4] = since(t);
  record_artifact(r, dir + "/session.changeset", rows - rows / 10);  // Net changes: the surviving rows.
  sqlite3_free(changeset);
  sqlite3_close(replica);
  sqlite3_close(db);
  return r;
}

Result run_ferry(const std::string& dir, int rows) {
  Result r;
  {
    sqlite3* db = open_db(dir + "/ferry.db");
    exec(db, kSchema);
    sqlite3_close(db);
  }
  auto engine = ferry::Engine::init(dir + "/ferry.db", "bench");
  engine.track("items");
  sqlite3* db = open_db(dir + "/ferry.db");  // The application's own connection: triggers capture it.
  write_phases(db, rows, r);
  sqlite3_close(db);
  auto t = Clock::now();
  ferry::ExportOptions all;
  all.all = true;
  const auto summary = engine.export_bundle(dir + "/ferry.bundle", all);  // Seals, then writes.
  r.seconds[3] = since(t);
  {
    sqlite3* replica = open_db(dir + "/ferry-replica.db");
    exec(replica, kSchema);
    sqlite3_close(replica);
    auto other = ferry::Engine::init(dir + "/ferry-replica.db", "replica");
    other.track("items");
    t = Clock::now();
    (void)other.import_bundle(dir + "/ferry.bundle");  // Committed (durable in the WAL) on return.
    r.seconds[4] = since(t);
  }
  record_artifact(r, dir + "/ferry.bundle", static_cast<double>(summary.operations));
  const double n = bench::measure_bundle_fields(dir + "/ferry.bundle", r.field_bytes);
  for (double& b : r.field_bytes) b /= n;
  r.floor = bench::measure_floor(dir + "/ferry.db", dir + "/ferry.bundle", dir);
  return r;
}

// Runs one trial in a child process and returns its results and peak RSS.
Result trial(Result (*fn)(const std::string&, int), int rows) {
  char tmpl[] = "/tmp/ferry-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::fprintf(stderr, "ferry_bench: cannot make %s: %s\n", tmpl, std::strerror(errno));
    std::exit(1);
  }
  const std::string dir = tmpl;
  int fds[2];
  if (::pipe(fds) != 0) std::exit(1);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Result r = fn(dir, rows);
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    r.peak_rss_mib = ru.ru_maxrss / 1024.0;
    if (::write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) ::_exit(1);
    ::_exit(0);
  }
  ::close(fds[1]);
  Result r;
  const bool ok = ::read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::filesystem::remove_all(dir);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "ferry_bench: a trial failed\n");
    std::exit(1);
  }
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Result median_of(const std::vector<Result>& runs) {
  Result m = runs[0];
  for (int p = 0; p < 5; ++p) {
    std::vector<double> t;
    for (const auto& r : runs) t.push_back(r.seconds[p]);
    m.seconds[p] = median(t);
  }
  auto median_by = [&](double bench::Floor::*field) {
    std::vector<double> t;
    for (const auto& r : runs) t.push_back(r.floor.*field);
    return median(t);
  };
  m.floor.log_seconds = median_by(&bench::Floor::log_seconds);
  m.floor.bundle_seconds = median_by(&bench::Floor::bundle_seconds);
  std::vector<double> rss;
  for (const auto& r : runs) rss.push_back(r.peak_rss_mib);
  m.peak_rss_mib = *std::max_element(rss.begin(), rss.end());
  return m;
}

std::map<std::string, Result> measure(int rows, int reps) {
  std::map<std::string, std::vector<Result>> runs;
  for (int i = 0; i < reps; ++i) {  // Interleaved, so machine noise hits every system alike.
    runs["raw"].push_back(trial(run_raw, rows));
    runs["session"].push_back(trial(run_session, rows));
    runs["ferry"].push_back(trial(run_ferry, rows));
  }
  std::map<std::string, Result> out;
  for (const auto& [name, r] : runs) out[name] = median_of(r);
  return out;
}

void print_table(int rows, std::map<std::string, Result>& m) {
  std::printf("N = %d rows; medians; ratios are time / time of raw SQLite and of the session extension\n", rows);
  std::printf("%-8s %-7s %10s %12s %9s %9s\n", "system", "phase", "ms", "ops/s", "x raw", "x session");
  for (const char* sys : {"raw", "session", "ferry"}) {
    const Result& r = m[sys];
    for (int p = 0; p < 5; ++p)
      std::printf("%-8s %-7s %10.1f %12.0f %9.2f %9.2f\n", sys, kPhases[p], r.seconds[p] * 1e3, r.ops[p] / r.seconds[p],
                  r.seconds[p] / m["raw"].seconds[p], r.seconds[p] / m["session"].seconds[p]);
    std::printf("%-8s artifact %.0f bytes (%.1f per operation), zstd -3: %s; peak RSS %.1f MiB\n", sys, r.artifact_bytes,
                r.artifact_bytes / r.ops[3],
                r.artifact_zstd > 0 ? (std::to_string(static_cast<long long>(r.artifact_zstd)) + " bytes").c_str() : "n/a (no zstd)",
                r.peak_rss_mib);
  }
  // What a bundle's bytes per operation are: each field's encoded size, then SQLite's row and page overhead.
  const Result& f = m["ferry"];
  double body = 0;
  std::printf("ferry    bytes per operation by field:");
  for (int i = 0; i < bench::kFields; ++i) {
    std::printf(" %s %.1f%s", bench::kFieldNames[i], f.field_bytes[i], i + 1 < bench::kFields ? "," : "");
    body += f.field_bytes[i];
  }
  std::printf("; %.1f in all before compression; in the file, with SQLite's storage, %.1f.\n", body,
              f.artifact_bytes / f.ops[3]);
  const double floor = f.floor.log_seconds + f.floor.bundle_seconds;
  std::printf("ferry    export floor (the same bytes, nothing of ferry around them): log rows durably %.1f ms + "
              "bundle file %.1f ms = %.1f ms, %.2f x session; ferry's export is %.2f x this floor\n",
              f.floor.log_seconds * 1e3, f.floor.bundle_seconds * 1e3, floor * 1e3, floor / m["session"].seconds[3],
              f.seconds[3] / floor);
  // An import must make the same row changes in the application's table (what
  // raw SQLite's three write phases did) and append every operation to the
  // log durably: no import can cost less, whatever it verifies or merges.
  const Result& raw = m["raw"];
  const double rows_written = raw.seconds[0] + raw.seconds[1] + raw.seconds[2];
  const double import_floor = rows_written + f.floor.log_seconds;
  std::printf("ferry    import floor (the row writes of raw SQLite's phases + the log rows durably): %.1f ms + %.1f ms "
              "= %.1f ms, %.0f operations/s, %.2f x session; ferry's import is %.2f x this floor\n",
              rows_written * 1e3, f.floor.log_seconds * 1e3, import_floor * 1e3, f.ops[4] / import_floor,
              import_floor / m["session"].seconds[4], f.seconds[4] / import_floor);
}

void print_json(int rows, std::map<std::string, Result>& m) {
  std::printf("{\"rows\": %d, \"systems\": {", rows);
  bool first = true;
  for (const char* sys : {"raw", "session", "ferry"}) {
    const Result& r = m[sys];
    std::printf("%s\"%s\": {", first ? "" : ", ", sys);
    first = false;
    for (int p = 0; p < 5; ++p)
      std::printf("\"%s\": {\"seconds\": %.6f, \"ops\": %.0f, \"x_raw\": %.3f, \"x_session\": %.3f}, ", kPhases[p],
                  r.seconds[p], r.ops[p], r.seconds[p] / m["raw"].seconds[p], r.seconds[p] / m["session"].seconds[p]);
    std::printf("\"artifact_bytes\": %.0f, \"artifact_zstd_bytes\": %.0f, \"peak_rss_mib\": %.1f", r.artifact_bytes,
                r.artifact_zstd, r.peak_rss_mib);
    if (std::string(sys) == "ferry") {
      std::printf(", \"bytes_per_operation_by_field\": {");
      for (int i = 0; i < bench::kFields; ++i)
        std::printf("%s\"%s\": %.2f", i ? ", " : "", bench::kFieldNames[i], r.field_bytes[i]);
      const Result& raw = m["raw"];
      std::printf("}, \"export_floor\": {\"log_seconds\": %.6f, \"bundle_seconds\": %.6f}, "
                  "\"import_floor\": {\"row_writes_seconds\": %.6f, \"log_seconds\": %.6f}",
                  r.floor.log_seconds, r.floor.bundle_seconds, raw.seconds[0] + raw.seconds[1] + raw.seconds[2],
                  r.floor.log_seconds);
    }
    std::printf("}");
  }
  std::printf("}}\n");
}

// "2,100,1000" -> {2, 100, 1000}; empty on anything else.
std::vector<int> parse_sizes(const std::string& list) {
  std::vector<int> sizes;
  std::size_t at = 0;
  while (at <= list.size()) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    const std::string item = list.substr(at, comma - at);
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || item.size() > 7) return {};
    sizes.push_back(std::stoi(item));
    at = comma + 1;
  }
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 0, reps = 3;  // rows: 100,000, or 2,000 with --fleet.
  bool json = false, scale = false, fleet = false, announce = false, scoped = false;
  int scopes = 100;
  std::vector<int> fleet_sizes{2, 100, 1000, 10000};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) rows = std::atoi(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--json") json = true;
    else if (a == "--scale") scale = true;
    else if (a == "--same-note") same_note = true;
    else if (a == "--fleet") fleet = true;
    else if (a == "--announce") announce = true;
    else if (a == "--scopes") scoped = true;
    else if (a == "--of" && i + 1 < argc) scopes = std::atoi(argv[++i]);
    else if (a == "--devices" && i + 1 < argc) fleet_sizes = parse_sizes(argv[++i]);
    else {
      std::fprintf(stderr, "usage: ferry_bench [--rows N] [--reps R] [--scale] [--same-note] [--json]\n"
                           "       ferry_bench --fleet [--devices D1,D2,...] [--rows N] [--reps R] [--announce] [--json]\n"
                           "       ferry_bench --scopes [--of S] [--rows N] [--reps R] [--json]\n");
      return 2;
    }
  }
  if (rows == 0) rows = fleet ? 2000 : 100000;
  if (rows < 10 || reps < 1) {
    std::fprintf(stderr, "ferry_bench: --rows must be at least 10 and --reps at least 1\n");
    return 2;
  }
  if (scoped) {
    if (scopes < 8 || scopes > rows) {
      std::fprintf(stderr, "ferry_bench: --of takes a number of scopes from 8 (clinic 7 is the one read) to --rows\n");
      return 2;
    }
    return bench::run_scopes(rows, scopes, reps, json);
  }
  if (fleet) {
    if (fleet_sizes.empty() || *std::min_element(fleet_sizes.begin(), fleet_sizes.end()) < 2) {
      std::fprintf(stderr, "ferry_bench: --devices takes sizes of at least 2, separated by commas\n");
      return 2;
    }
    return bench::run_fleet(fleet_sizes, rows, reps, json, announce);
  }
  const std::vector<int> sizes = scale ? std::vector<int>{10000, 100000, 1000000} : std::vector<int>{rows};
  for (int n : sizes) {
    auto m = measure(n, reps);
    if (json) print_json(n, m);
    else print_table(n, m);
  }
  if (scale && !json) std::printf("linear growth: ms per 1,000 rows should stay about the same from row to row above\n");
  return 0;
}
