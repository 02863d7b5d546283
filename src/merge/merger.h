#pragma once
// The merge rules: how an operation changes the replicated state, whatever
// order operations arrive in. Specified in bundle_format/README.md, "Merge
// rules"; in short:
//
// Every cell -- (table, key, column), plus the row's existence -- keeps its
// *frontier*: the operations that wrote it and that no later write to it
// causally follows (A is followed by B when B.clock[A.origin] >= A.seq).
// Inserts write existence and every column they carry; updates write the
// columns they changed; deletes write existence and every column.
//   - the row exists when the winner of its existence frontier is an insert;
//   - a column's value is the value written by the winner of its frontier;
//   - the winner is the greatest (lamport, origin device id) -- winner_order(),
//     with the frontier rule itself in merge/rules.h;
//   - a frontier of two or more operations whose values differ is an open
//     conflict, recorded as one (winner, loser) pair per loser; it closes when
//     a later write follows all of them (a resolution, or any new edit).
// The frontier is a pure function of the set of operations applied, so every
// replica that applied the same set holds the same rows and the same open
// conflicts. Operations must be applied in causal order (the importer keeps
// the rest pending), which keeps every clock transitively closed.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/applier.h"
#include "capture/tables.h"
#include "ferry/operation.h"
#include "log/store.h"
#include "merge/row_meta.h"
#include "merge/rules.h"
#include "replica/devices.h"
#include "sql/database.h"

namespace ferry::merge {

class Merger : public capture::Applier {
 public:
  Merger(sql::Database& db, replica::Devices& devices, const capture::Registry& tables, log::Store& log);
  ~Merger() override;

  // Applies `op` to the merge state. With write_table, also brings the
  // application table to the new state (an imported operation); without, the
  // table already holds it (a local change being sealed), unless another
  // scope's state of the row now wins (format4.md §12.2): that row is then
  // left for rewrite_deferred(). Conflicts it opens or closes are recorded in
  // ferry_conflicts.
  // REQUIRES: every operation op causally follows was applied before.
  void apply(const Operation& op, bool write_table) override;
  // The merged value of `column` in the row of `table` with `key`: what the
  // winner of its frontier wrote; nullopt when no operation wrote it, or a delete won.
  std::optional<Value> current(const capture::TrackedTable& table, const std::vector<Value>& key,
                               const std::string& column) override;
  std::optional<std::string> shown_scope(const capture::TrackedTable& table, const std::vector<Value>& key) override;
  // Writes the row `op` wrote from its merge state, every cell, and brings the
  // open conflict records of its cells in line with it; `op` closes what no
  // longer holds. For a row whose stamps were renamed (identity/reissue.h): a new
  // device id can change who wins a tie of Lamport times.
  void resettle(const Operation& op);
  // Whether a seal left rows showing another state than the one shown
  // (apply()), and writing them. REQUIRES: the capture triggers suspended,
  // so that these writes are not captured as changes of this device's.
  bool has_deferred() const;
  void rewrite_deferred();
  // Operations of device `device_no` up to `up_to` may arrive after operations
  // that follow them: this database forgot a chain under those numbers that
  // others had followed (identity/forget.h). Such an operation drops from a
  // frontier what it follows, as any does, and enters only frontiers no
  // member of which follows it -- as if it had come first -- so the frontier
  // stays a function of the set applied.
  void expect_late(std::int64_t device_no, std::uint64_t up_to);
  // Rebuilds the merge state of one row from `ops`, every operation held that
  // wrote it, in (Lamport time, origin) order (any order that puts an operation
  // after those it follows), after others that wrote it left the log; writes
  // the row (deleted when no operation is left) and records its open conflicts
  // afresh (its closed ones are not kept).
  void rebuild(const capture::TrackedTable& table, const std::vector<Value>& key, const std::vector<Operation>& ops);
  // Removes the row's state of `scope` (a scope this database stops holding,
  // exchange/purge.h) with the conflicts recorded for the row, writes the row
  // as the states left show it (deleted when none does) and records their open
  // conflicts afresh. Returns false, changing nothing, when it had none.
  bool drop_scope(const capture::TrackedTable& table, const std::vector<Value>& key, const std::string& scope);
  // Writes the merge state apply() holds back (merge/row_store.h). Call before
  // committing, and before anything reads ferry_rows.
  void flush();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::merge
