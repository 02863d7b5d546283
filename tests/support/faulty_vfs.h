#pragma once
// A SQLite VFS for tests that fails writes on demand: while a FaultyDisk is
// alive it is the default VFS of the process, so every connection ferry opens
// goes through it. Writes to files whose path contains `match` succeed until
// `budget` bytes have been written to them; then every such write fails with
// `error` (SQLITE_FULL for a full disk, SQLITE_IOERR_WRITE for an I/O error).
#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace test {

class FaultyDisk {
 public:
  FaultyDisk(std::string match, std::int64_t budget, int error);
  ~FaultyDisk();
  FaultyDisk(const FaultyDisk&) = delete;
  FaultyDisk& operator=(const FaultyDisk&) = delete;

  // Writes refused so far.
  int refused() const;
};

}  // namespace test
