#pragma once
// Past versions of rows, rebuilt from the operations held (history/replay.h):
// what `ferry history` and `ferry as-of` show. Nothing here writes to the
// database; callers seal captured changes first, so the log is current.

#include <optional>
#include <string>
#include <vector>

#include "ferry/history.h"
#include "sql/database.h"

namespace ferry::history {

// Every version of the row of `table` with `key`, oldest first, each naming
// the versions concurrent with it. Throws Error(not_found) for a table ferry
// never tracked, Error(invalid_argument) for a key of the wrong length.
std::vector<RowVersion> row_history(sql::Database& db, const std::string& table, const std::vector<Value>& key);
// The row's non-key columns as they were at `at`; nullopt if it did not exist.
std::optional<std::vector<ColumnValue>> row_at(sql::Database& db, const std::string& table,
                                               const std::vector<Value>& key, const PastPoint& at);
// Writes the table as it was at `at` into a new database at `path` (which
// must not exist), one row in memory at a time.
AsOfSummary table_as_of(sql::Database& db, const std::string& table, const PastPoint& at, const std::string& path);

}  // namespace ferry::history
