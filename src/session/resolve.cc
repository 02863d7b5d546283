#include "session/resolve.h"

#include <map>

#include "log/codec.h"
#include "log/store.h"
#include "merge/conflicts.h"
#include "merge/rules.h"
#include "util/uuid.h"

namespace ferry::session {
namespace {

Operation load(log::Store& log, const merge::OperationKey& k, const std::string& where) {
  auto body = log.body(k.origin, k.seq);
  if (!body) throw Error(Errc::corrupt, where + ": a conflict names an operation the log does not hold");
  return log::decode(*body, where, log::kNewestOperationFormat);
}

ConflictInfo describe(Session& s, merge::ConflictRecord r) {
  ConflictInfo c;
  c.id = r.id;
  c.table = r.table;
  c.key = log::decode_values(r.pk, s.db.path());
  c.column = r.column;
  c.winner = load(s.log, r.winner, s.db.path());
  c.loser = load(s.log, r.loser, s.db.path());
  c.winner_value = merge::written(c.winner, c.column);
  c.loser_value = merge::written(c.loser, c.column);
  c.detected_ms = r.detected_ms;
  c.kind = r.kind;
  c.detail = r.detail;
  return c;
}

// The newest value of every column of a row, from the log: what a deleted row
// held before it was deleted (used when a resolution brings it back).
std::vector<ColumnValue> last_known_row(Session& s, const capture::TrackedTable& t, const std::vector<Value>& key) {
  std::vector<Operation> ops;
  log::for_each_logged(s.db, [&](std::string_view body) {
    Operation op = log::decode(body, s.db.path(), log::kNewestOperationFormat);
    if (op.table == t.name && op.key == key && op.kind != OpKind::remove) ops.push_back(std::move(op));
  });
  std::map<std::string, std::pair<const Operation*, Value>> best;
  for (const auto& op : ops)
    for (const auto& c : op.columns) {
      auto it = best.find(c.name);
      if (it == best.end() ||
          merge::winner_order(op.lamport, op.origin, it->second.first->lamport, it->second.first->origin))
        best[c.name] = {&op, c.value};
    }
  std::vector<ColumnValue> out;
  for (int p : t.sorted_positions) {
    const auto& name = t.columns[static_cast<std::size_t>(p)];
    auto it = best.find(name);
    out.push_back({name, it == best.end() ? Value() : it->second.second});
  }
  return out;
}

bool row_exists(sql::Database& db, const capture::TrackedTable& t, const std::vector<Value>& key) {
  std::string sql = "SELECT 1 FROM " + sql::quote_identifier(t.name) + " WHERE ";
  for (std::size_t i = 0; i < t.key_positions.size(); ++i)
    sql += (i ? " AND " : "") + sql::quote_identifier(t.columns[static_cast<std::size_t>(t.key_positions[i])]) + " IS ?";
  auto st = db.prepare(sql);
  for (std::size_t i = 0; i < key.size(); ++i) st.bind(static_cast<int>(i + 1), key[i]);
  return st.step();
}

Operation settle(Session& s, const ConflictInfo& c, const std::optional<Value>& chosen, const Operation& side) {
  const capture::TrackedTable* t = s.tables.find(c.table);
  if (t == nullptr || !t->tracked)
    throw Error(Errc::refused, "conflict " + std::to_string(c.id) + " is on table '" + c.table +
                                   "', which is no longer tracked; track it again to resolve");
  // A value conflict is within one scope's state of the row (format4.md §12.2): resolved in that scope.
  if (!chosen) return s.writer.append(c.table, c.key, OpKind::remove, {}, true, c.winner.scope);
  if (!c.column.empty() && row_exists(s.db, *t, c.key))
    return s.writer.append(c.table, c.key, OpKind::update, {{c.column, *chosen}}, true, c.winner.scope);
  // The row is deleted here (or this is an insert-against-delete conflict): bring it back whole.
  std::vector<ColumnValue> row = side.kind == OpKind::insert ? side.columns : last_known_row(s, *t, c.key);
  for (auto& col : row)
    if (col.name == c.column) col.value = *chosen;
  return s.writer.append(c.table, c.key, OpKind::insert, std::move(row), true, c.winner.scope);
}

}  // namespace

std::vector<ConflictInfo> open_conflicts(Session& s) {
  std::vector<ConflictInfo> out;
  for (auto& r : merge::open_conflicts(s.db, std::nullopt)) out.push_back(describe(s, std::move(r)));
  return out;
}

Operation resolve(Session& s, std::int64_t id, const Chooser& choose) {
  auto records = merge::open_conflicts(s.db, id);
  if (records.empty())
    throw Error(Errc::not_found, "no open conflict " + std::to_string(id) + "; `ferry conflicts` lists the open ones");
  const ConflictInfo c = describe(s, std::move(records[0]));
  if (c.kind == "constraint") {
    // Not a disagreement between devices: acknowledged here, on this device only.
    merge::acknowledge(s.db, id, util::now_ms());
    return c.winner;
  }
  const Operation* side = nullptr;
  const auto chosen = choose(c, side);
  s.tables.suspend_triggers();
  // A scope conflict (format4.md §12.2): the row is kept where the side chosen has it, deleted from the other scope.
  const Operation& other = side == &c.winner ? c.loser : c.winner;
  Operation op = c.kind == "scope" ? s.writer.append(c.table, c.key, OpKind::remove, {}, true, other.scope)
                                   : settle(s, c, chosen, *side);
  s.tables.restore_triggers();
  return op;
}

}  // namespace ferry::session
