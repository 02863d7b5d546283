#include "capture/held.h"

#include "capture/scoped_rows.h"
#include "ferry/error.h"
#include "log/codec.h"
#include "util/uuid.h"

namespace ferry::capture {
namespace {

constexpr const char* kCreate =
    "CREATE TABLE IF NOT EXISTS ferry_held(tbl INTEGER NOT NULL, pk BLOB NOT NULL, reason TEXT NOT NULL, "
    "since_ms INTEGER NOT NULL, PRIMARY KEY(tbl, pk)) WITHOUT ROWID";

bool table_exists(sql::Database& db) {
  auto st = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'ferry_held'");
  st.step();
  return st.integer(0) == 1;
}

}  // namespace

std::string Held::too_large(const std::vector<Value>& key, const std::vector<ColumnValue>& columns, std::size_t size) {
  std::string largest;
  std::size_t largest_bytes = 0;
  auto see = [&](const std::string& name, const Value& v) {
    const std::size_t bytes = v.type() == Value::Type::text   ? v.as_text().size()
                              : v.type() == Value::Type::blob ? v.as_blob().size()
                                                              : 0;
    if (bytes > largest_bytes) largest = name, largest_bytes = bytes;
  };
  for (const auto& v : key) see("its key", v);
  for (const auto& c : columns) see("column '" + printable(c.name) + "'", c.value);
  if (largest_bytes > log::kMaxValueBytes)
    return largest + " holds " + std::to_string(largest_bytes) + " bytes, more than the " +
           std::to_string(log::kMaxValueBytes) + " a value may have in a bundle";
  return "its operation would be " + std::to_string(size) + " bytes, more than the " +
         std::to_string(log::kMaxBodyBytes) + " a bundle may carry";
}

Held::Held(sql::Database& db) : db_(db), any_(false) {
  if (!table_exists(db_)) return;
  auto st = db_.prepare("SELECT EXISTS(SELECT 1 FROM ferry_held)");
  st.step();
  any_ = st.integer(0) != 0;
}

bool Held::contains(std::int64_t table_no, const std::vector<Value>& key) {
  if (!any_) return false;
  if (!find_) find_.emplace(db_.prepare("SELECT 1 FROM ferry_held WHERE tbl = ? AND pk = ?"));
  const std::string pk = log::encode_values(key);
  find_->bind(1, table_no).bind_blob(2, pk.data(), pk.size());
  const bool found = find_->step();
  find_->reset();
  return found;
}

void Held::hold(const TrackedTable& table, const std::vector<Value>& key, const std::string& reason) {
  db_.exec(kCreate);
  auto st = db_.prepare("INSERT INTO ferry_held(tbl, pk, reason, since_ms) VALUES(?, ?, ?, ?) "
                        "ON CONFLICT(tbl, pk) DO UPDATE SET reason = excluded.reason");
  const std::string pk = log::encode_values(key);
  st.bind(1, table.no).bind_blob(2, pk.data(), pk.size()).bind(3, reason).bind(4, util::now_ms());
  st.run();
  any_ = true;
}

void Held::retry(const Registry& tables, LocalWriter& writer) {
  if (!any_) return;
  struct Row {
    std::int64_t tbl;
    std::string pk;
  };
  std::vector<Row> rows;
  {
    auto st = db_.prepare("SELECT tbl, pk FROM ferry_held ORDER BY since_ms, tbl, pk");
    while (st.step()) rows.push_back({st.integer(0), std::string(st.blob_view(1))});
  }
  auto release = db_.prepare("DELETE FROM ferry_held WHERE tbl = ? AND pk = ?");
  ScopedRows scoped(db_, writer);  // A scoped table's row, in its scope (capture/scoped_rows.h).
  auto as_variant = [](std::optional<LocalWriter::NotMade> refused) -> std::variant<Operation, LocalWriter::NotMade> {
    if (refused) return std::move(*refused);
    return Operation();
  };
  for (const auto& row : rows) {
    auto forget = [&] {
      release.bind(1, row.tbl).bind_blob(2, row.pk.data(), row.pk.size());
      release.run();
    };
    const TrackedTable& t = tables.by_no(row.tbl);
    if (!t.tracked) {  // Untracked: nothing of it is sealed any more.
      forget();
      continue;
    }
    std::vector<Value> key = log::decode_values(row.pk, db_.path() + ": ferry_held");
    const std::string ambiguity = KeyIdentity(db_, t).ambiguity(key);
    std::string columns, where;
    for (const auto& c : t.columns) columns += (columns.empty() ? "" : ", ") + sql::quote_identifier(c);
    for (int k : t.key_positions)
      where += (where.empty() ? "" : " AND ") + sql::quote_identifier(t.columns[static_cast<std::size_t>(k)]) + " IS ?";
    auto current = db_.prepare("SELECT " + columns + " FROM " + sql::quote_identifier(t.name) + " WHERE " + where);
    for (std::size_t i = 0; i < key.size(); ++i) current.bind(static_cast<int>(i + 1), key[i]);
    // SQLite finds the row by comparing (0.0 IS 0): it is this row only if its key's bytes are these.
    auto same_key = [&] {
      for (std::size_t i = 0; i < key.size(); ++i)
        if (current.value(t.key_positions[i]) != key[i]) return false;
      return true;
    };
    if (!current.step() || !same_key()) {
      // Gone: whatever peers hold of it goes too. A key too large or too loose to send was never sent.
      if (ambiguity.empty()) {
        auto made = t.scope.empty() ? writer.try_append(t.name, std::move(key), OpKind::remove, {})
                                    : as_variant(scoped.remove(t, std::move(key)));
        if (const auto* not_made = std::get_if<LocalWriter::NotMade>(&made)) {
          hold(t, not_made->key, not_made->why);  // Not this device's to send yet: the deletion waits.
          continue;
        }
      }
      forget();
      continue;
    }
    if (!ambiguity.empty()) continue;  // Still there, still unsendable.
    std::vector<ColumnValue> values;
    for (int p : t.sorted_positions) values.push_back({t.columns[static_cast<std::size_t>(p)], current.value(p)});
    std::vector<Value> now;
    for (std::size_t i = 0; i < t.columns.size(); ++i) now.push_back(current.value(static_cast<int>(i)));
    auto made = t.scope.empty() ? writer.try_append(t.name, std::move(key), OpKind::insert, std::move(values))
                                : as_variant(scoped.put(t, std::move(key), now, {}, true));
    if (const auto* not_made = std::get_if<LocalWriter::NotMade>(&made)) {
      hold(t, not_made->key, not_made->why);
    } else {
      forget();
    }
  }
}

std::vector<HeldRow> Held::list(sql::Database& db, const Registry& tables) {
  std::vector<HeldRow> out;
  if (!table_exists(db)) return out;
  auto st = db.prepare("SELECT tbl, pk, reason, since_ms FROM ferry_held ORDER BY since_ms, tbl, pk");
  while (st.step()) {
    HeldRow row;
    row.table = tables.by_no(st.integer(0)).name;
    row.key = log::decode_values(st.blob_view(1), db.path() + ": ferry_held");
    row.reason = st.text(2);
    row.since_ms = st.integer(3);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace ferry::capture
