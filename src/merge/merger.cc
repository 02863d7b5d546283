#include "merge/merger.h"

#include <algorithm>
#include <cstring>
#include <msgpack.hpp>
#include <set>

#include "ferry/error.h"
#include "log/chain.h"
#include "log/codec.h"
#include "merge/conflicts.h"
#include "merge/merger_impl.h"
#include "merge/row_meta.h"
#include "merge/row_store.h"
#include "merge/rules.h"
#include "util/uuid.h"

namespace ferry::merge {


Merger::Merger(sql::Database& db, replica::Devices& devices, const capture::Registry& tables, log::Store& log)
    : impl_(std::make_unique<Impl>(db, devices, tables, log)) {}
Merger::~Merger() = default;

void Merger::flush() { impl_->rows.flush(); }

void Merger::apply(const Operation& op, bool write_table) {
  Impl& m = *impl_;
  const capture::TrackedTable* t = m.tables.find(op.table);
  if (t == nullptr || !t->tracked)
    throw Error(Errc::refused, "operation " + std::to_string(op.seq) + " of device " + op.origin.to_string() +
                                   " writes table '" + printable(op.table) + "', which is not tracked here");
  RowStates states;
  const bool stored = m.rows.load(t->no, op.key, states);
  std::optional<std::string> before;  // The scope whose state the table shows.
  if (const RowMeta* shown = m.shown(states)) before = shown->scope;
  RowMeta& meta = state_of(states, op.scope);

  const bool was = exists(meta, [&](const Frontier& f) { return m.winner(f); });
  std::vector<const std::string*> touched, changed;
  m.step(meta, *t, op, touched, changed);
  const bool now = exists(meta, [&](const Frontier& f) { return m.winner(f); });
  const RowMeta* shown = states.size() == 1 ? (now ? &meta : nullptr) : m.shown(states);
  if (write_table)
    m.write_shown(*t, op, meta, was, now, before, shown, changed);
  else if (shown != (now ? &meta : nullptr))  // The table shows the seal's own state; another's wins (format4.md §12.2).
    m.deferred.push_back({op.table, op.key});  // Written by rewrite_deferred(), with capture suspended.

  const bool may_conflict = meta.conflicted || std::any_of(touched.begin(), touched.end(), [&](const std::string* c) {
    return (c == &kExistence ? meta.exist : meta.cell(*c)).size() > 1;
  });
  if (may_conflict) {
    const std::string pk = log::encode_values(op.key);
    m.settle_cells(op.table, pk, touched, meta, op);
    meta.conflicted = m.conflicts.any_open(op.table, pk);
  }
  if (states.size() > 1) m.settle_scopes(op.table, log::encode_values(op.key), states, op);
  m.rows.save(t->no, op.key, states, stored);
}

std::optional<Value> Merger::current(const capture::TrackedTable& table, const std::vector<Value>& key,
                                     const std::string& column) {
  Impl& m = *impl_;
  RowStates states;
  if (!m.rows.load(table.no, key, states)) return std::nullopt;
  const RowMeta* shown = m.shown(states);
  if (shown == nullptr) return std::nullopt;
  const Frontier* f = shown->find(column);
  if (f == nullptr || f->empty()) return std::nullopt;
  const Stamp& w = *m.winner(*f);
  if (w.removes) return std::nullopt;
  static const Operation kNone;  // No operation in hand: the winner is read from the log.
  return carried(m.operation(w, kNone), column);
}

std::optional<std::string> Merger::shown_scope(const capture::TrackedTable& table, const std::vector<Value>& key) {
  Impl& m = *impl_;
  RowStates states;
  if (!m.rows.load(table.no, key, states)) return std::nullopt;
  const RowMeta* shown = m.shown(states);
  if (shown == nullptr) return std::nullopt;
  return shown->scope;
}

void Merger::expect_late(std::int64_t device_no, std::uint64_t up_to) {
  std::uint64_t& at = impl_->late[device_no];
  at = std::max(at, up_to);
}

void Merger::rebuild(const capture::TrackedTable& table, const std::vector<Value>& key,
                     const std::vector<Operation>& ops) {
  Impl& m = *impl_;
  RowStates old, states;
  const bool stored = m.rows.load(table.no, key, old);
  std::vector<const std::string*> touched, changed;
  for (const Operation& op : ops) {
    touched.clear();
    m.step(state_of(states, op.scope), table, op, touched, changed);
  }
  const std::string pk = log::encode_values(key);
  m.conflicts.forget_row(table.name, pk);
  m.rows.save(table.no, key, states, stored);
  Operation none;  // No operation left: resettle deletes the row.
  none.table = table.name;
  none.key = key;
  resettle(ops.empty() ? none : ops.back());
}

bool Merger::drop_scope(const capture::TrackedTable& table, const std::vector<Value>& key, const std::string& scope) {
  Impl& m = *impl_;
  RowStates states;
  if (!m.rows.load(table.no, key, states)) return false;
  const auto it = std::find_if(states.begin(), states.end(), [&](const RowMeta& s) { return s.scope == scope; });
  if (it == states.end()) return false;
  states.erase(it);
  m.conflicts.forget_row(table.name, log::encode_values(key));
  m.rows.save(table.no, key, states, true);
  Operation none;  // No operation: every value comes from the states left.
  none.table = table.name;
  none.key = key;
  resettle(none);
  return true;
}

bool Merger::has_deferred() const { return !impl_->deferred.empty(); }

void Merger::rewrite_deferred() {
  Impl& m = *impl_;
  for (auto& [table, key] : m.deferred) {
    const capture::TrackedTable* t = m.tables.find(table);
    RowStates states;
    if (t == nullptr || !m.rows.load(t->no, key, states)) continue;
    Operation row;  // Only its table and key: every value comes from the state shown.
    row.table = table;
    row.key = std::move(key);
    m.rewrite(*t, row, m.shown(states));
  }
  m.deferred.clear();
}

void Merger::resettle(const Operation& op) {
  Impl& m = *impl_;
  const capture::TrackedTable* t = m.tables.find(op.table);
  RowStates states;
  if (t == nullptr || !t->tracked || !m.rows.load(t->no, op.key, states)) return;
  const RowMeta* shown = m.shown(states);
  // Whatever the table holds: a delete of a missing row does nothing, an insert is an upsert.
  m.rewrite(*t, op, shown);
  const std::string pk = log::encode_values(op.key);
  for (RowMeta& state : states) {
    std::vector<const std::string*> cells{&kExistence};
    for (const auto& [column, frontier] : state.cols)
      if (!t->is_key(column)) cells.push_back(&column);
    m.settle_cells(op.table, pk, cells, state, op);
  }
  if (states.size() > 1) m.settle_scopes(op.table, pk, states, op);
  const bool conflicted = m.conflicts.any_open(op.table, pk);
  for (RowMeta& state : states) state.conflicted = conflicted;
  m.rows.save(t->no, op.key, states, true);
}

}  // namespace ferry::merge
