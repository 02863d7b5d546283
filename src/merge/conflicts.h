#pragma once
// The conflict records (ferry_conflicts, bundle_format/README.md §8 and §11):
// the one reader and writer of the table. A value conflict is one (winner,
// loser) pair of operations in one cell's frontier, open until an operation
// follows both; a scope conflict (format4.md §12.2) one pair of existence
// winners of two scopes' states of a row in which it exists, the shown one
// first, open until one of them no longer has the row; a constraint conflict
// is a write to the application table that one of its constraints refused,
// open until acknowledged here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/operation.h"
#include "sql/database.h"

namespace ferry::merge {

// An operation named by a record.
struct OperationKey {
  DeviceId origin;
  std::uint64_t seq = 0;
};

// One record, as stored.
struct ConflictRecord {
  std::int64_t id = 0;
  std::string table;
  std::string pk;      // The row's key, encoded (log::encode_values).
  std::string column;  // "" for the row's existence.
  OperationKey winner, loser;
  std::int64_t detected_ms = 0;
  std::string kind;    // "value", "scope" or "constraint".
  std::string detail;  // For a constraint conflict: SQLite's words for the constraint.
};

// What the merger reads and writes per cell, with statements prepared once.
class ConflictStore {
 public:
  explicit ConflictStore(sql::Database& db);
  // The open conflicts of `kind` ("value" or "scope") of one cell.
  std::vector<ConflictRecord> open_in_cell(const std::string& table, const std::string& pk, const std::string& column,
                                           const char* kind = "value");
  void open(const std::string& table, const std::string& pk, const std::string& column, const OperationKey& winner,
            const OperationKey& loser, std::int64_t now_ms, const char* kind = "value");
  // Closes record `id`: `by` followed both of its operations.
  void close(std::int64_t id, const OperationKey& by, std::int64_t now_ms);
  // Whether any value conflict of the row is open.
  bool any_open(const std::string& table, const std::string& pk);
  // Records that a constraint of the application table refused the row `op` wrote.
  void record_constraint(const Operation& op, const std::string& pk, const std::string& constraint, std::int64_t now_ms);
  // Forgets every record of a row, open or closed (its merge state is rebuilt).
  void forget_row(const std::string& table, const std::string& pk);

 private:
  sql::Database& db_;
  sql::Statement open_in_cell_, insert_, close_, count_open_;
};

// The open records, oldest first; only record `only` when given.
std::vector<ConflictRecord> open_conflicts(sql::Database& db, std::optional<std::int64_t> only);
// Closes record `id` without an operation: a constraint conflict acknowledged here.
void acknowledge(sql::Database& db, std::int64_t id, std::int64_t now_ms);
// The greatest record id so far (0 when none), and how many records after `after_id` are open.
std::int64_t last_conflict_id(sql::Database& db);
std::size_t count_open(sql::Database& db, std::int64_t after_id = 0);
// Records naming operations keep+1.. of `old_id` name them as operations 1.. of `new_id` (identity/reissue.h).
void rename_origin(sql::Database& db, const DeviceId& old_id, const DeviceId& new_id, std::uint64_t keep);

}  // namespace ferry::merge
