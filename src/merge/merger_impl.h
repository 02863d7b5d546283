#pragma once
// The merger's state within one session (merge/merger.h): what merger.cc
// uses to keep merge state per scope and table_writes.cc to bring the
// application tables to it. Private to src/merge.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "log/chain.h"
#include "merge/causality.h"
#include "merge/conflicts.h"
#include "merge/merger.h"
#include "merge/row_meta.h"
#include "merge/row_store.h"
#include "merge/rules.h"
#include "util/uuid.h"

namespace ferry::merge {

// A cell's value as far as conflicts are concerned: nullopt for "deleted".
using CellValue = std::optional<Value>;

struct Merger::Impl {
  sql::Database& db;
  replica::Devices& devices;
  const capture::Registry& tables;
  log::Store& log;
  Causality causality{log};
  RowStore rows;
  ConflictStore conflicts;
  std::map<std::string, sql::Statement, std::less<>> writes;  // Application-table statements by (kind, table, columns).
  std::string write_key;  // Reused: looking a statement up allocates nothing.
  std::map<std::pair<std::int64_t, std::uint64_t>, Operation> decoded;  // Winners read back from the log.
  std::map<std::int64_t, std::uint64_t> late;  // expect_late(), by device number.
  std::vector<std::pair<std::string, std::vector<Value>>> deferred;  // Rows a seal left showing a state not shown.

  Impl(sql::Database& d, replica::Devices& dev, const capture::Registry& t, log::Store& l)
      : db(d), devices(dev), tables(t), log(l),
        rows(d),
        conflicts(d) {}

  const DeviceId& id_of(std::int64_t no) const { return devices.by_no(no).id; }

  const Stamp* winner(const Frontier& f) const {
    return winner_of(f, [](const Stamp& s) { return s.lamport; }, [&](const Stamp& s) -> const DeviceId& { return id_of(s.device); });
  }

  // The state the application's table shows (format4.md §12.2): of the
  // states in which the row exists, the one whose existence winner wins by
  // the winner order; nullptr when it exists in none.
  const RowMeta* shown(const RowStates& states) const {
    const RowMeta* best = nullptr;
    const Stamp* best_winner = nullptr;
    for (const RowMeta& state : states) {
      const Stamp* w = winner(state.exist);
      if (w == nullptr || w->removes) continue;
      if (best == nullptr || winner_order(w->lamport, id_of(w->device), best_winner->lamport, id_of(best_winner->device)))
        best = &state, best_winner = w;
    }
    return best;
  }

  // The scope of the chain `chain`: "" for a device's own.
  std::string_view scope_of(const DeviceId& chain) const {
    if (!log::is_scoped_chain(chain)) return {};
    const replica::Device* d = devices.find(chain);
    return d == nullptr ? std::string_view() : devices.name_of(*d).second;
  }

  // Enters op's stamp by the frontier rule (merge/rules.h); only a late
  // operation (expect_late) can be followed already. Returns true if the winner changed.
  bool advance(Frontier& f, const Stamp& stamp, const Operation& op, bool is_late) {
    const Stamp* before = winner(f);
    const Stamp old = before ? *before : Stamp{};
    const bool had = before != nullptr;
    enter_frontier(
        f, stamp, [&](const Stamp& s) { return causality.follows(op, id_of(s.device), s.seq); },
        [&](const Stamp& s) { return causality.follows(operation(s, op), op.origin, op.seq); }, is_late);
    const Stamp* after = winner(f);
    if (after == nullptr || !had) return had != (after != nullptr);
    return !(*after == old);
  }

  const Operation& operation(const Stamp& s, const Operation& current) {
    if (id_of(s.device) == current.origin && s.seq == current.seq) return current;
    auto key = std::make_pair(s.device, s.seq);
    auto it = decoded.find(key);
    if (it != decoded.end()) return it->second;
    const DeviceId& origin = id_of(s.device);
    auto body = log.body(origin, s.seq);
    if (!body)
      throw Error(Errc::corrupt, db.path() + ": merge state refers to operation " + std::to_string(s.seq) +
                                     " of device " + origin.to_string() + ", which the log does not hold");
    if (decoded.size() > 4096) decoded.clear();  // Bounded: winners are re-read rarely.
    return decoded.emplace(key, log::decode(*body, db.path() + ": log", log::kNewestOperationFormat)).first->second;
  }

  // written(), without reading the operation from the log where its stamp says enough.
  CellValue cell_value(const Stamp& s, const std::string& column, const Operation& current) {
    if (s.removes) return std::nullopt;
    if (column == kExistence) return Value::integer(1);
    return carried(operation(s, current), column);
  }

  // Adds `op` to the frontiers of the cells it writes. `touched`: the names of
  // those cells (kExistence, the table's own column names, or op's); `changed`:
  // those whose winner changed.
  void step(RowMeta& meta, const capture::TrackedTable& t, const Operation& op, std::vector<const std::string*>& touched,
            std::vector<const std::string*>& changed) {
    const Stamp stamp{devices.ensure(op.origin).no, op.seq, op.lamport, op.kind == OpKind::remove};
    auto l = late.empty() ? late.end() : late.find(stamp.device);
    const bool is_late = l != late.end() && op.seq <= l->second;
    touched.reserve(t.columns.size() + 1);
    changed.reserve(t.columns.size() + 1);
    for_each_cell(op, t, [&](const std::string& cell) {
      touched.push_back(&cell);
      if (advance(&cell == &kExistence ? meta.exist : meta.cell(cell), stamp, op, is_late)) changed.push_back(&cell);
    });
  }

  // Brings the open conflict records of one cell of the state of `scope` in
  // line with its frontier; those of other scopes' states are theirs.
  void settle_conflicts(const std::string& table, const std::string& pk, const std::string& column,
                        const Frontier& f, const Operation& op, const std::string& scope) {
    std::set<std::pair<std::pair<std::int64_t, std::uint64_t>, std::pair<std::int64_t, std::uint64_t>>> desired;
    if (f.size() > 1) {
      const Stamp& w = *winner(f);
      const CellValue wv = cell_value(w, column, op);
      for (const auto& s : f)
        if (!(s == w) && cell_value(s, column, op) != wv)
          desired.insert({{w.device, w.seq}, {s.device, s.seq}});
    }
    auto stamp_of = [&](const OperationKey& k) {
      const replica::Device* d = devices.find(k.origin);
      return std::make_pair(d ? d->no : -1, k.seq);
    };
    const std::int64_t now = util::now_ms();
    for (const ConflictRecord& r : conflicts.open_in_cell(table, pk, column))
      if (scope_of(r.winner.origin) == scope && desired.erase({stamp_of(r.winner), stamp_of(r.loser)}) == 0)
        conflicts.close(r.id, {op.origin, op.seq}, now);
    for (const auto& [w, l] : desired)
      conflicts.open(table, pk, column, {id_of(w.first), w.second}, {id_of(l.first), l.second}, now);
  }

  // Brings the row's open scope conflicts in line with its states: one
  // (shown state's existence winner, other's) pair per other state in which
  // the row exists.
  void settle_scopes(const std::string& table, const std::string& pk, const RowStates& states, const Operation& op) {
    std::set<std::pair<std::pair<std::int64_t, std::uint64_t>, std::pair<std::int64_t, std::uint64_t>>> desired;
    if (const RowMeta* shown_state = shown(states)) {
      const Stamp& w = *winner(shown_state->exist);
      for (const RowMeta& state : states) {
        const Stamp* other = winner(state.exist);
        if (&state != shown_state && other != nullptr && !other->removes)
          desired.insert({{w.device, w.seq}, {other->device, other->seq}});
      }
    }
    auto stamp_of = [&](const OperationKey& k) {
      const replica::Device* d = devices.find(k.origin);
      return std::make_pair(d ? d->no : -1, k.seq);
    };
    const std::int64_t now = util::now_ms();
    for (const ConflictRecord& r : conflicts.open_in_cell(table, pk, kExistence, "scope"))
      if (desired.erase({stamp_of(r.winner), stamp_of(r.loser)}) == 0) conflicts.close(r.id, {op.origin, op.seq}, now);
    for (const auto& [w, l] : desired)
      conflicts.open(table, pk, kExistence, {id_of(w.first), w.second}, {id_of(l.first), l.second}, now, "scope");
  }

  // settle_conflicts for every cell `cells` names in `state`.
  void settle_cells(const std::string& table, const std::string& pk, const std::vector<const std::string*>& cells,
                    RowMeta& state, const Operation& op) {
    for (const std::string* c : cells) {
      const Frontier* f = c == &kExistence ? &state.exist : state.find(*c);
      if (f != nullptr) settle_conflicts(table, pk, *c, *f, op, state.scope);
    }
  }

  // The application tables (merge/table_writes.cc).
  // The statement writing `positions` of `t` (kind: 'I' insert, 'U' update, 'D' delete),
  // prepared on first use: no SQL text is built per operation.
  sql::Statement& write_statement(const capture::TrackedTable& t, char kind, const std::vector<int>& positions);
  // The SQL text of `column`'s DEFAULT clause, or NULL without one.
  std::string default_of(const capture::TrackedTable& t, const std::string& column);
  // Runs a write to an application table. A constraint failure (UNIQUE on another
  // column, NOT NULL, CHECK) skips this row write and is recorded as a conflict of
  // kind 'constraint' naming the operation; the import goes on.
  void run_write(sql::Statement& st, const Operation& op);
  std::string where_key(const capture::TrackedTable& t, int first_param) const;
  void write_row(const capture::TrackedTable& t, const Operation& op, const RowMeta& meta, bool was, bool now,
                 const std::vector<const std::string*>& changed);
  // A column of a row that exists, that no operation held wrote (an insert
  // made before the column was added; writes forgotten, identity/forget.h) or
  // whose winner is a delete (a concurrent insert won existence without
  // writing it, §8), holds its DEFAULT, whatever it held before: the row stays
  // a function of the operations applied.
  void reset_to_default(const capture::TrackedTable& t, const Operation& op, const std::vector<int>& columns);
  // The whole row as `now` shows it, or deleted when nullptr, whatever the table held.
  void rewrite(const capture::TrackedTable& t, const Operation& op, const RowMeta* now);
  // Brings the table's row to what `now` (the state shown after `op`, or
  // nullptr) says, where it showed the state of scope `before` (or none):
  // `op`'s own write (`was`, `is`, `changed` of `state`, its scope's) when
  // the state shown stays its scope's, the whole row when the state shown changed.
  void write_shown(const capture::TrackedTable& t, const Operation& op, const RowMeta& state, bool was, bool is,
                   const std::optional<std::string>& before, const RowMeta* now,
                   const std::vector<const std::string*>& changed);
};

}  // namespace ferry::merge
