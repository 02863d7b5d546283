#pragma once
// Sealing the rows of a scoped table (bundle_format/format4.md §12.1–12.2):
// each change is an operation of this device's chain of the row's scope,
// which its scope expression gives on the whole row (the capture triggers of
// a scoped table copy every column of an update). A change that gives the
// row another scope than the one its state is shown in is a move: a delete
// in the old scope and an insert of the whole row in the new one. A row
// whose expression gives no scope is held (capture/held.h), named.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/scope.h"
#include "capture/sealer.h"
#include "capture/tables.h"
#include "sql/database.h"

namespace ferry::capture {

class ScopedRows {
 public:
  ScopedRows(sql::Database& db, LocalWriter& writer) : db_(db), writer_(writer) {}
  // The row `key` of `table` now holds `row` (every column, in table order):
  // an insert (`inserted`, or a row not shown yet), an update of the
  // `changed` columns (sorted by name) in its scope, or a move. Returns what
  // was not made, to be held; nothing is made then.
  std::optional<LocalWriter::NotMade> put(const TrackedTable& table, std::vector<Value> key,
                                          const std::vector<Value>& row, std::vector<ColumnValue> changed,
                                          bool inserted);
  // The row `key` is gone: a delete in the scope its state was shown in
  // (nothing when it was shown in none: no replica holds it).
  std::optional<LocalWriter::NotMade> remove(const TrackedTable& table, std::vector<Value> key);

 private:
  ScopeOf& scope_of(const TrackedTable& table);

  sql::Database& db_;
  LocalWriter& writer_;
  std::map<std::int64_t, ScopeOf> scopes_;  // By table number, prepared on first use.
};

}  // namespace ferry::capture
