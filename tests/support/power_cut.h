#pragma once
// A SQLite VFS for tests that cuts the power, in the manner of SQLite's own
// crash tests (test6.c). While a PowerCut is alive it is the default VFS of the
// process, so every connection opened meanwhile goes through it. For the files
// whose path starts with `prefix` (a database, its -wal and -journal) it keeps
// every write made since that file's last xSync. The `at`-th xSync of those
// files (1-based) does not happen: the power goes out instead. The disk as it
// could then be found is written to `image_dir` (the database, its -wal and
// -journal under their own names; not -shm, which SQLite rebuilds): the content each file had at its last sync, then each later write
// applied, dropped, or turned to garbage bytes, at random from `seed`. From
// then on every write and sync of those files fails with SQLITE_IOERR, so the
// work in the process stops and its outcome is the image's to show.
//
// Truncations and deletions are taken as done at once (what the directory
// shows is not simulated). A write that would overwrite bytes outside itself
// never does (SQLite's default "powersafe overwrite").
#include <cstdint>
#include <string>

namespace test {

class PowerCut {
 public:
  PowerCut(std::string prefix, int at, std::uint64_t seed, std::string image_dir);
  ~PowerCut();
  PowerCut(const PowerCut&) = delete;
  PowerCut& operator=(const PowerCut&) = delete;

  void cut_now();     // The power goes out now, between two calls (the image is written).
  bool cut() const;   // Whether the power went out.
  int syncs() const;  // Syncs of the watched files that happened.
  // Writes whose fate was drawn at the cut, and how many of each: applied, dropped, garbage.
  int fates(int which) const;
};

}  // namespace test
