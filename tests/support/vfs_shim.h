#pragma once
// What the tests' SQLite VFS shims share (faulty_vfs.cc, power_cut.cc): a file
// that holds the real VFS's file right after itself, and io methods that pass
// every call on to it but those a shim replaces. A shim registers a copy of
// the default VFS with its own xOpen (open_shim), which wraps each file.
#include <sqlite3.h>

#include <cstring>
#include <string>

namespace test::shim {

struct File {
  sqlite3_file base;
  std::string* watched;  // The path, for the files the shim watches; owned.
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

inline File* as_file(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
inline sqlite3_file* real(sqlite3_file* f) { return as_file(f)->real(); }
inline const sqlite3_io_methods* methods(sqlite3_file* f) { return real(f)->pMethods; }

// The methods a shim may replace; the others always pass on.
struct Replaced {
  int (*write)(sqlite3_file*, const void*, int, sqlite3_int64) = nullptr;
  int (*truncate)(sqlite3_file*, sqlite3_int64) = nullptr;
  int (*sync)(sqlite3_file*, int) = nullptr;
  // Memory-mapped reads off: every page goes through xRead.
  bool no_mmap = false;
};

// The io methods: `replaced`'s where set, passing on elsewhere.
sqlite3_io_methods methods_with(const Replaced& replaced);

// Opens `name` with `real_vfs` into the shim file `f`, with `io` as its methods;
// watches it (File::watched) when `watch` says so of its name.
int open_shim(sqlite3_vfs* real_vfs, const sqlite3_io_methods* io, sqlite3_filename name, sqlite3_file* f, int flags,
              int* out_flags, bool (*watch)(const char* name));

// A copy of `real_vfs` whose files are shim files, opened by `x_open`.
sqlite3_vfs shim_of(sqlite3_vfs* real_vfs, const char* name,
                    int (*x_open)(sqlite3_vfs*, sqlite3_filename, sqlite3_file*, int, int*));

}  // namespace test::shim
