// Engine::conflicts and Engine::resolve.
#include <cstring>
#include <functional>

#include "engine/engine_impl.h"
#include "identity/identity.h"
#include "session/session.h"
#include "log/codec.h"
#include "merge/merger.h"
#include "util/uuid.h"

namespace ferry {
namespace {

struct Record {
  std::int64_t id = 0;
  std::string kind, detail;
  std::string table;
  std::string pk;
  std::string column;
  Operation winner, loser;
  std::int64_t detected_ms = 0;
};

Operation load_op(log::Store& log, sql::Statement& st, int col, const std::string& where) {
  const Bytes b = st.blob(col);
  DeviceId origin;
  if (b.size() == 16) std::memcpy(origin.bytes.data(), b.data(), 16);
  const auto seq = static_cast<std::uint64_t>(st.integer(col + 1));
  auto body = log.body(origin, seq);
  if (!body) throw Error(Errc::corrupt, where + ": a conflict names an operation the log does not hold");
  return log::decode(*body, where);
}

std::vector<Record> open_records(session::Session& s, std::optional<std::int64_t> only) {
  auto st = s.db.prepare(
      "SELECT id, tbl, pk, col, winner_origin, winner_seq, loser_origin, loser_seq, detected_ms, kind, detail "
      "FROM ferry_conflicts "
      "WHERE closed_ms IS NULL AND (?1 IS NULL OR id=?1) ORDER BY id");
  if (only) st.bind(1, *only);
  std::vector<Record> out;
  while (st.step()) {
    Record r;
    r.id = st.integer(0);
    r.table = st.text(1);
    const Bytes pk = st.blob(2);
    r.pk.assign(pk.begin(), pk.end());
    r.column = st.text(3);
    r.winner = load_op(s.log, st, 4, s.db.path());
    r.loser = load_op(s.log, st, 6, s.db.path());
    r.detected_ms = st.integer(8);
    r.kind = st.text(9);
    r.detail = st.text(10);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<Value> side_value(const Operation& op, const std::string& column) {
  if (op.kind == OpKind::remove) return std::nullopt;
  for (const auto& c : op.columns)
    if (c.name == column) return c.value;
  return Value();
}

// The newest value of every column of a row, from the log: what a deleted row
// held before it was deleted (used when a resolution brings it back).
std::vector<ColumnValue> last_known_row(session::Session& s, const capture::TrackedTable& t, const std::vector<Value>& key) {
  std::map<std::string, std::pair<const Operation*, Value>> best;
  std::vector<Operation> ops;
  auto st = s.db.prepare("SELECT body FROM ferry_log");
  while (st.step()) {
    const Bytes b = st.blob(0);
    Operation op = log::decode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), s.db.path());
    if (op.table == t.name && op.key == key && op.kind != OpKind::remove) ops.push_back(std::move(op));
  }
  for (const auto& op : ops)
    for (const auto& c : op.columns) {
      auto it = best.find(c.name);
      if (it == best.end() || merge::winner_order(op.lamport, op.origin, it->second.first->lamport, it->second.first->origin))
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

}  // namespace

std::vector<ConflictInfo> Engine::conflicts() {
  sql::Transaction tx(impl_->db);
  session::Session s(impl_->db, impl_->self);
  s.seal();
  s.finish();
  std::vector<ConflictInfo> out;
  for (auto& r : open_records(s, std::nullopt)) {
    ConflictInfo c;
    c.id = r.id;
    c.table = r.table;
    c.key = log::decode_values(r.pk, impl_->db.path());
    c.column = r.column;
    c.winner_value = side_value(r.winner, r.column);
    c.loser_value = side_value(r.loser, r.column);
    c.winner = std::move(r.winner);
    c.loser = std::move(r.loser);
    c.detected_ms = r.detected_ms;
    c.kind = r.kind;
    c.detail = r.detail;
    out.push_back(std::move(c));
  }
  tx.commit();
  return out;
}

namespace {

Operation settle(session::Session& s, const Record& r, const std::optional<Value>& chosen, const Operation& side) {
  const capture::TrackedTable* t = s.tables.find(r.table);
  if (t == nullptr || !t->tracked)
    throw Error(Errc::refused, "conflict " + std::to_string(r.id) + " is on table '" + r.table +
                                   "', which is no longer tracked; track it again to resolve");
  const std::vector<Value> key = log::decode_values(r.pk, s.db.path());
  if (!chosen) return s.writer.append(r.table, key, OpKind::remove, {}, true);
  if (!r.column.empty() && row_exists(s.db, *t, key))
    return s.writer.append(r.table, key, OpKind::update, {{r.column, *chosen}}, true);
  // The row is deleted here (or this is an insert-against-delete conflict): bring it back whole.
  std::vector<ColumnValue> row = side.kind == OpKind::insert ? side.columns : last_known_row(s, *t, key);
  for (auto& c : row)
    if (c.name == r.column) c.value = *chosen;
  return s.writer.append(r.table, key, OpKind::insert, std::move(row), true);
}

using Chooser = std::function<std::optional<Value>(const Record&, const Operation*&)>;

Operation resolve_with(sql::Database& db, const DeviceId& self, std::int64_t id, const Chooser& choose) {
  identity::require_own_identity(db);  // A resolution is a new operation of this device.
  sql::Transaction tx(db);
  session::Session s(db, self);
  s.seal();
  auto records = open_records(s, id);
  if (records.empty())
    throw Error(Errc::not_found, "no open conflict " + std::to_string(id) + "; `ferry conflicts` lists the open ones");
  if (records[0].kind == "constraint") {
    // Not a disagreement between devices: acknowledged here, on this device only.
    auto close = s.db.prepare("UPDATE ferry_conflicts SET closed_ms=? WHERE id=?");
    close.bind(1, util::now_ms()).bind(2, id);
    close.run();
    s.finish();
    tx.commit();
    return records[0].winner;
  }
  const Operation* side = nullptr;
  const auto chosen = choose(records[0], side);
  s.tables.suspend_triggers();
  Operation op = settle(s, records[0], chosen, *side);
  s.tables.restore_triggers();
  s.finish();
  tx.commit();
  return op;
}

}  // namespace

Operation Engine::resolve(std::int64_t conflict_id, Keep keep) {
  return resolve_with(impl_->db, impl_->self, conflict_id, [&](const Record& r, const Operation*& side) {
    side = keep == Keep::winner ? &r.winner : &r.loser;
    return side_value(*side, r.column);  // For a row-level conflict: nullopt for the delete side.
  });
}

Operation Engine::resolve(std::int64_t conflict_id, const Value& value) {
  return resolve_with(impl_->db, impl_->self, conflict_id, [&](const Record& r, const Operation*& side) -> std::optional<Value> {
    if (r.column.empty())
      throw Error(Errc::invalid_argument, "conflict " + std::to_string(r.id) +
                                              " is about whether the row exists; settle it with --keep winner or --keep loser");
    side = &r.winner;
    return value;
  });
}

}  // namespace ferry
