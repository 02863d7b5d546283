#include "merge/merger.h"

#include <algorithm>
#include <cstring>
#include <msgpack.hpp>
#include <set>

#include "ferry/error.h"
#include "log/chain.h"
#include "log/codec.h"
#include "merge/causality.h"
#include "merge/conflicts.h"
#include "merge/row_meta.h"
#include "merge/row_store.h"
#include "merge/rules.h"
#include "util/uuid.h"

namespace ferry::merge {

namespace {

// A cell's value as far as conflicts are concerned: nullopt for "deleted".
using CellValue = std::optional<Value>;

}  // namespace

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

  // The statement writing `positions` of `t` (kind: 'I' insert, 'U' update, 'D' delete),
  // prepared on first use: no SQL text is built per operation.
  sql::Statement& write_statement(const capture::TrackedTable& t, char kind, const std::vector<int>& positions) {
    std::string& key = write_key;
    key.assign(1, kind);
    for (std::int64_t n = t.no; n > 0; n >>= 7) key += static_cast<char>(0x80 | (n & 0x7f));
    key += ':';
    for (int p : positions) key += static_cast<char>(p & 0x7f), key += static_cast<char>(p >> 7);
    auto it = writes.find(key);
    if (it != writes.end()) return it->second;
    const std::string table = sql::quote_identifier(t.name);
    std::string text;
    if (kind == 'R') {  // Back to the column's default: positions holds one column.
      const std::string& column = t.columns[static_cast<std::size_t>(positions.at(0))];
      text = "UPDATE " + table + " SET " + sql::quote_identifier(column) + "=(" + default_of(t, column) + ")" +
             where_key(t, 1);
    } else if (kind == 'D') {
      text = "DELETE FROM " + table + where_key(t, 1);
    } else if (kind == 'I') {
      // An upsert on the primary key only. Never INSERT OR REPLACE: REPLACE silently
      // deletes any other row that clashes on any UNIQUE constraint.
      std::string names, params, conflict_target, sets;
      for (std::size_t i = 0; i < positions.size(); ++i) {
        const std::string name = sql::quote_identifier(t.columns[static_cast<std::size_t>(positions[i])]);
        names += (i ? "," : "") + name;
        params += i ? ",?" : "?";
        if (std::find(t.key_positions.begin(), t.key_positions.end(), positions[i]) == t.key_positions.end())
          sets += (sets.empty() ? "" : ",") + name + "=excluded." + name;
      }
      for (int p : t.key_positions)
        conflict_target += (conflict_target.empty() ? "" : ",") + sql::quote_identifier(t.columns[static_cast<std::size_t>(p)]);
      text = "INSERT INTO " + table + "(" + names + ") VALUES(" + params + ") ON CONFLICT(" + conflict_target + ") DO " +
             (sets.empty() ? "NOTHING" : "UPDATE SET " + sets);
    } else {
      std::string sets;
      for (std::size_t i = 0; i < positions.size(); ++i)
        sets += (i ? "," : "") + sql::quote_identifier(t.columns[static_cast<std::size_t>(positions[i])]) + "=?";
      text = "UPDATE " + table + " SET " + sets + where_key(t, static_cast<int>(positions.size()) + 1);
    }
    return writes.emplace(key, db.prepare(text, true)).first->second;
  }

  // The SQL text of `column`'s DEFAULT clause, or NULL without one.
  std::string default_of(const capture::TrackedTable& t, const std::string& column) {
    auto st = db.prepare("SELECT dflt_value FROM pragma_table_xinfo(?) WHERE name = ?");
    st.bind(1, std::string_view(t.name));
    st.bind(2, std::string_view(column));
    if (st.step() && !st.is_null(0)) return st.text(0);
    return "NULL";
  }

  // Runs a write to an application table. A constraint failure (UNIQUE on another
  // column, NOT NULL, CHECK) skips this row write and is recorded as a conflict of
  // kind 'constraint' naming the operation; the import goes on.
  void run_write(sql::Statement& st, const Operation& op) {
    try {
      st.run();
    } catch (const sql::ConstraintFailed& e) {
      st.reset();
      conflicts.record_constraint(op, log::encode_values(op.key), e.constraint, util::now_ms());
    }
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

  std::string where_key(const capture::TrackedTable& t, int first_param) const {
    std::string out;
    for (std::size_t i = 0; i < t.key_positions.size(); ++i)
      out += std::string(i ? " AND " : " WHERE ") +
             sql::quote_identifier(t.columns[static_cast<std::size_t>(t.key_positions[i])]) + " IS ?" +
             std::to_string(first_param + static_cast<int>(i));
    return out;
  }

  void write_row(const capture::TrackedTable& t, const Operation& op, const RowMeta& meta, bool was, bool now,
                 const std::vector<const std::string*>& changed) {
    if (!now) {
      if (!was) return;
      auto& st = write_statement(t, 'D', {});
      for (std::size_t i = 0; i < op.key.size(); ++i) st.bind(static_cast<int>(i + 1), op.key[i]);
      run_write(st, op);
      return;
    }
    std::vector<int> positions;
    std::vector<const Value*> values;  // Into op, or into `held`.
    std::vector<Value> held;           // Winners' values from other operations.
    std::vector<int> defaults;         // Columns no operation held writes, or whose winner is a delete.
    positions.reserve(t.columns.size());
    values.reserve(t.columns.size());
    held.reserve(t.columns.size());    // Never reallocates: `values` may point into it.
    auto add_winner = [&](int position) {
      const std::string& column = t.columns[static_cast<std::size_t>(position)];
      const Frontier* f = meta.find(column);
      // No write held, or a delete won: the column holds its default.
      if (f == nullptr || f->empty() || winner(*f)->removes) return defaults.push_back(position);
      const Stamp& w = *winner(*f);
      // Another operation's value is copied: reading a further winner may evict it from `decoded`.
      const Operation& source = operation(w, op);
      const Value& v = carried(source, column);
      positions.push_back(position);
      values.push_back(&source == &op ? &v : &held.emplace_back(v));
    };
    const auto key_index = [&](int p) { return std::find(t.key_positions.begin(), t.key_positions.end(), p) - t.key_positions.begin(); };
    if (!was) {
      for (int p = 0; p < static_cast<int>(t.columns.size()); ++p) {
        const auto k = static_cast<std::size_t>(key_index(p));
        if (k < t.key_positions.size()) {
          positions.push_back(p);
          values.push_back(&op.key[k]);
        } else {
          add_winner(p);
        }
      }
      auto& st = write_statement(t, 'I', positions);
      for (std::size_t i = 0; i < values.size(); ++i) st.bind_view(static_cast<int>(i + 1), *values[i]);
      run_write(st, op);
      reset_to_default(t, op, defaults);  // An upsert leaves them as they were.
      return;
    }
    for (const std::string* column : changed) {
      const int p = column == &kExistence ? -1 : t.position(*column);
      if (p >= 0 && static_cast<std::size_t>(key_index(p)) == t.key_positions.size()) add_winner(p);
    }
    reset_to_default(t, op, defaults);
    if (values.empty()) return;
    auto& st = write_statement(t, 'U', positions);
    int param = 1;
    for (const Value* v : values) st.bind_view(param++, *v);
    for (const auto& k : op.key) st.bind_view(param++, k);
    run_write(st, op);
  }

  // A column of a row that exists, that no operation held wrote (an insert
  // made before the column was added; writes forgotten, identity/forget.h) or
  // whose winner is a delete (a concurrent insert won existence without
  // writing it, §8), holds its DEFAULT, whatever it held before: the row stays
  // a function of the operations applied.
  void reset_to_default(const capture::TrackedTable& t, const Operation& op, const std::vector<int>& columns) {
    for (int p : columns) {
      auto& st = write_statement(t, 'R', {p});
      for (std::size_t i = 0; i < op.key.size(); ++i) st.bind_view(static_cast<int>(i + 1), op.key[i]);
      run_write(st, op);
    }
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

  // The whole row as `now` shows it, or deleted when nullptr, whatever the table held.
  void rewrite(const capture::TrackedTable& t, const Operation& op, const RowMeta* now) {
    static const RowMeta kNone;  // Deleting reads no state.
    write_row(t, op, now ? *now : kNone, /*was=*/now == nullptr, /*now=*/now != nullptr, {});
  }

  // Brings the table's row to what `now` (the state shown after `op`, or
  // nullptr) says, where it showed the state of scope `before` (or none):
  // `op`'s own write (`was`, `is`, `changed` of `state`, its scope's) when
  // the state shown stays its scope's, the whole row when the state shown changed.
  void write_shown(const capture::TrackedTable& t, const Operation& op, const RowMeta& state, bool was, bool is,
                   const std::optional<std::string>& before, const RowMeta* now,
                   const std::vector<const std::string*>& changed) {
    if (before && now && *before == now->scope) {
      if (now->scope == op.scope) write_row(t, op, state, was, is, changed);  // Else op wrote a state not shown.
    } else if (before || now) {
      rewrite(t, op, now);
    }
  }
};

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
