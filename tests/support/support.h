#pragma once
// Helpers that make tests read as prose: a temporary folder, an "application"
// connection that knows nothing of ferry, file damage, and running programs.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ferry/engine.h"
#include "sql/database.h"

namespace test {

// A fresh folder under $TMPDIR, removed with everything in it at the end.
class TempDir {
 public:
  // With prefer_memory, under /dev/shm when it exists (fast for tests that fsync a lot).
  explicit TempDir(bool prefer_memory = false);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A plain SQLite connection, as an application that never heard of ferry would open.
ferry::sql::Database app(const std::string& path);
void exec(const std::string& path, const std::string& sql);
std::int64_t count(const std::string& path, const std::string& sql);

// Every row of `table` ordered by its first column, rendered exactly (with types).
std::string dump(const std::string& path, const std::string& table);

// Runs a shell command; returns its exit status and what it printed (stdout+stderr).
struct Run {
  int status = 0;
  std::string out;
};
Run run(const std::string& command);

// Runs `work` in a child process, which must open its own connections (none
// crosses the fork); it exits 0 when `work` returns and 1 when it throws.
pid_t in_child(const std::function<void()>& work);

// The whole number in environment variable `name`, or `fallback` when it is
// unset or not above 0 (FERRY_POWER_PATTERNS, FERRY_SKEW_SCENARIOS...).
int env_count(const char* name, int fallback);

std::vector<std::uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes);
std::string shell_quote(const std::string& s);

}  // namespace test

namespace test {

// A device: an application database with `schema`, prepared by ferry, its tables tracked.
struct Replica {
  Replica(const TempDir& dir, const std::string& name, const std::string& schema);
  std::string name;
  std::string path;
  ferry::Engine engine;
  void sql(const std::string& statements) const { exec(path, statements); }
  std::string dump(const std::string& table) const { return test::dump(path, table); }
};

// A device id whose 16 bytes count up from `first`: fixed ids for
// hand-made operations, ordered by `first`. A `first` of 0x7a to 0x89 gives
// the form of a scope's chain (log/chain.h), which no device id has.
ferry::DeviceId counting_id(std::uint8_t first);

// Makes a database this ferry prepared look as ferry 3.x left it (local format
// 3): the same tables without the causal index (log/causal_index.h).
// REQUIRES: what it holds was sealed as ferry 3.x seals, format 1
// (Engine::set_ferry3_compatible).
void as_left_by_ferry_3(const std::string& path);

// A copy of `r`'s database and key file at `path`, as restoring a backup or
// copying a disk makes it, opened.
ferry::Engine copy_device(const Replica& r, const std::string& path);

// The schema of the scoped tests' clinics: visits scoped by clinic (track
// them with `track_clinic_tables`), drugs shared.
extern const char* const kClinicSchema;
void track_clinic_tables(Replica& r);

// Exports from `from` what device `to` lacks (as far as `from` knows) to `path`; returns `path`.
std::string export_for(ferry::Engine& from, const ferry::DeviceId& to, const std::string& path);

// Exports every operation `from` holds to `path`.
ferry::ExportSummary export_all(Replica& from, const std::string& path);

// Exports from `from` what `to` lacks and imports it into `to`.
ferry::ImportSummary exchange(Replica& from, Replica& to, const TempDir& dir);

}  // namespace test
