#pragma once
// RowReplay: one row rebuilt from a set of its operations by the merge rules
// (bundle_format/README.md, "Merge rules"), without touching any table: what
// `ferry history` and `ferry as-of` show. It keeps, per cell, the frontier of
// the operations added (those no other added operation follows), so the result
// depends only on which operations were added, not on their order -- the same
// property the merger has, by the same rules (merge/rules.h). As the merger,
// it keeps each scope's cells apart and shows the scope in which the row
// exists whose existence winner wins (bundle_format/format4.md §12.2).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/tables.h"
#include "ferry/operation.h"
#include "merge/causality.h"

namespace ferry::history {

using OperationRef = std::shared_ptr<const Operation>;

class RowReplay {
 public:
  // `causality` answers happened-before for the operations added (merge/causality.h).
  RowReplay(const capture::TrackedTable& table, const merge::Causality& causality)
      : table_(&table), causality_(&causality) {}

  // Adds `op`; returns the operations it met in the frontier of a cell it
  // writes -- neither before nor after it -- that wrote another value there:
  // the conflicts ferry records (bundle_format/README.md, §8).
  std::vector<OperationRef> add(const OperationRef& op);
  // Whether the row exists: the winner of its existence frontier is an insert.
  bool exists() const;
  // The non-key columns whose frontier winner wrote a value, by column name;
  // the others keep their default. Meaningful when exists().
  std::vector<ColumnValue> values() const;


 private:
  struct Cell {
    std::string scope;  // Of the operations that wrote it.
    std::string name;
    std::vector<OperationRef> frontier;
  };
  static const Operation* winner(const std::vector<OperationRef>& frontier);
  Cell& cell(const std::string& scope, const std::string& name);
  // The scope whose cells the row shows: of those whose existence winner is
  // an insert, the one whose winner wins; nullptr when there is none.
  const std::string* shown() const;

  const capture::TrackedTable* table_;
  const merge::Causality* causality_;
  std::vector<Cell> cells_;  // A handful per row.
};

}  // namespace ferry::history
