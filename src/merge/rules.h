#pragma once
// The merge rules' vocabulary, written once and used by the merger (the live
// state), history (past states rebuilt in memory), conflicts and the importer
// (bundle_format/README.md §8):
//   - which cells an operation writes, and the value it writes to each;
//   - (happened-before between two operations is merge/causality.h);
//   - the frontier rule: a cell keeps the operations that wrote it and that
//     no other write to it follows;
//   - the one order of operations, (Lamport time, origin device id), whose
//     greatest member of a frontier is the winner.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "capture/tables.h"
#include "ferry/operation.h"

namespace ferry::merge {

// The row-existence cell's name; every other cell is named by its column.
inline const std::string kExistence;

// True when (a_lamport, a_device) sorts before (b_lamport, b_device): smaller
// Lamport time, then smaller origin device id (bytes). Ascending, it is a
// causal order (Lamport times grow along every chain of causes), the order in
// which pending operations and rebuilt rows are applied.
inline bool causal_less(std::uint64_t a_lamport, const DeviceId& a_device, std::uint64_t b_lamport,
                        const DeviceId& b_device) {
  if (a_lamport != b_lamport) return a_lamport < b_lamport;
  return a_device < b_device;
}
inline bool causal_less(const Operation& a, const Operation& b) {
  return causal_less(a.lamport, a.origin, b.lamport, b.origin);
}
// The same order in SQL, over a column `lamport` (INTEGER) and a column
// `origin` holding the 16 id bytes (BLOBs compare as bytes).
constexpr const char* kCausalOrderSql = "lamport, origin";

// True when `a` wins over `b`: it sorts after it.
inline bool winner_order(std::uint64_t a_lamport, const DeviceId& a_device, std::uint64_t b_lamport,
                         const DeviceId& b_device) {
  return causal_less(b_lamport, b_device, a_lamport, a_device);
}

// Calls `visit(cell)` for each cell `op` writes: existence unless an update;
// every non-key column for a delete; the non-key columns it carries otherwise.
template <class Visit>
void for_each_cell(const Operation& op, const capture::TrackedTable& table, Visit visit) {
  if (op.kind != OpKind::update) visit(kExistence);
  if (op.kind == OpKind::remove) {
    for (const auto& c : table.columns)
      if (!table.is_key(c)) visit(c);
  } else {
    for (const auto& c : op.columns)
      if (!table.is_key(c.name)) visit(c.name);
  }
}

// The value an insert or update `op` carries for `column`, without a copy;
// NULL for a column an insert's schema lacked.
inline const Value& carried(const Operation& op, const std::string& column) {
  static const Value kNull;
  for (const auto& c : op.columns)
    if (c.name == column) return c.value;
  return kNull;
}
// The value `op` writes to `cell`: nullopt for a delete, 1 for existence,
// else what it carries.
inline std::optional<Value> written(const Operation& op, const std::string& cell) {
  if (op.kind == OpKind::remove) return std::nullopt;
  if (cell.empty()) return Value::integer(1);
  return carried(op, cell);
}

// The frontier rule, for any form of a frontier's members. `op_follows(m)`:
// the entering operation's clock includes member m; `follows_op(m)`: m's
// clock includes the entering operation. Every member the operation follows
// leaves. The operation enters unless a member follows it, which happens only
// when it arrives after an operation that follows it: a late one (an
// operation of a forgotten chain, identity/forget.h), or any in a set rebuilt
// in no particular order. Pass check_late=false where that cannot happen, to
// spare reading other operations. Returns whether it entered.
template <class Member, class OpFollows, class FollowsOp>
bool enter_frontier(std::vector<Member>& frontier, const Member& entering, OpFollows op_follows, FollowsOp follows_op,
                    bool check_late) {
  const bool followed = check_late && std::any_of(frontier.begin(), frontier.end(), follows_op);
  frontier.erase(std::remove_if(frontier.begin(), frontier.end(), op_follows), frontier.end());
  if (!followed) frontier.push_back(entering);
  return !followed;
}

// The winner of a frontier: its greatest member by winner_order, given each
// member's Lamport time and origin; nullptr when empty.
template <class Member, class LamportOf, class OriginOf>
const Member* winner_of(const std::vector<Member>& frontier, LamportOf lamport_of, OriginOf origin_of) {
  const Member* best = nullptr;
  for (const auto& m : frontier)
    if (best == nullptr || winner_order(lamport_of(m), origin_of(m), lamport_of(*best), origin_of(*best))) best = &m;
  return best;
}

}  // namespace ferry::merge
