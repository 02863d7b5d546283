// Bringing an application table to its merge state (merge/merger.h): the
// statements that write a row, prepared once per table and columns, and the
// rewrite of a whole row when the state shown changes (format4.md §12.2).
#include <algorithm>

#include "ferry/error.h"
#include "log/codec.h"
#include "merge/merger_impl.h"
#include "util/uuid.h"

namespace ferry::merge {

sql::Statement& Merger::Impl::write_statement(const capture::TrackedTable& t, char kind, const std::vector<int>& positions) {
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

std::string Merger::Impl::default_of(const capture::TrackedTable& t, const std::string& column) {
  auto st = db.prepare("SELECT dflt_value FROM pragma_table_xinfo(?) WHERE name = ?");
  st.bind(1, std::string_view(t.name));
  st.bind(2, std::string_view(column));
  if (st.step() && !st.is_null(0)) return st.text(0);
  return "NULL";
}

void Merger::Impl::run_write(sql::Statement& st, const Operation& op) {
  try {
    st.run();
  } catch (const sql::ConstraintFailed& e) {
    st.reset();
    conflicts.record_constraint(op, log::encode_values(op.key), e.constraint, util::now_ms());
  }
}

std::string Merger::Impl::where_key(const capture::TrackedTable& t, int first_param) const {
  std::string out;
  for (std::size_t i = 0; i < t.key_positions.size(); ++i)
    out += std::string(i ? " AND " : " WHERE ") +
           sql::quote_identifier(t.columns[static_cast<std::size_t>(t.key_positions[i])]) + " IS ?" +
           std::to_string(first_param + static_cast<int>(i));
  return out;
}

void Merger::Impl::write_row(const capture::TrackedTable& t, const Operation& op, const RowMeta& meta, bool was, bool now,
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

void Merger::Impl::reset_to_default(const capture::TrackedTable& t, const Operation& op, const std::vector<int>& columns) {
  for (int p : columns) {
    auto& st = write_statement(t, 'R', {p});
    for (std::size_t i = 0; i < op.key.size(); ++i) st.bind_view(static_cast<int>(i + 1), op.key[i]);
    run_write(st, op);
  }
}

void Merger::Impl::rewrite(const capture::TrackedTable& t, const Operation& op, const RowMeta* now) {
  static const RowMeta kNone;  // Deleting reads no state.
  write_row(t, op, now ? *now : kNone, /*was=*/now == nullptr, /*now=*/now != nullptr, {});
}

void Merger::Impl::write_shown(const capture::TrackedTable& t, const Operation& op, const RowMeta& state, bool was, bool is,
                 const std::optional<std::string>& before, const RowMeta* now,
                 const std::vector<const std::string*>& changed) {
  if (before && now && *before == now->scope) {
    if (now->scope == op.scope) write_row(t, op, state, was, is, changed);  // Else op wrote a state not shown.
  } else if (before || now) {
    rewrite(t, op, now);
  }
}

}  // namespace ferry::merge
