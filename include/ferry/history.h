#pragma once
// Every past version of a row, and tables as they were at a past point
// (Engine::history, Engine::row_at, Engine::table_as_of; README, "History").
// Versions are rebuilt from the operations log by the merge rules, so they are
// the same on every replica that holds the same operations.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/operation.h"
#include "ferry/vector_clock.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

// A point in the past: the operations a vector clock includes (what some device
// had seen), or those sealed at or before a moment (by their origin's clock).
struct PastPoint {
  std::optional<VectorClock> clock;
  std::optional<std::int64_t> unix_ms;

  bool includes(const Operation& op) const;
  // "DEVICE-ID:SEQ,..." (a clock, as `ferry status` prints it) or a UTC time
  // "2026-12-01T10:00:00Z" (milliseconds optional). Throws Error(invalid_argument).
  static PastPoint parse(const std::string& text);
};

struct RowVersion {
  Operation operation;                // The operation after which the row was like this.
  bool exists = false;                // False after a delete that won.
  std::vector<ColumnValue> values;    // Non-key columns by name, as merged; a column absent here has its default.
  // Operations neither before nor after this one that it met in one of its
  // cells (the cell's frontier, bundle_format/README.md §8) with another value:
  // the conflicts it took part in, as `ferry conflicts` records them.
  std::vector<Operation> concurrent;
};

struct AsOfSummary {
  std::uint64_t rows = 0;        // Rows written.
  std::uint64_t operations = 0;  // Operations of the table at or before the point.
  // Rows left out because they break a constraint of the table other than the
  // primary key (as imports skip them: a conflict of kind "constraint").
  std::uint64_t skipped = 0;
};

}  // namespace ferry
#pragma GCC visibility pop
