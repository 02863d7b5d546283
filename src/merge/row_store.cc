#include "merge/row_store.h"

#include <algorithm>
#include <limits>

#include "log/codec.h"

namespace ferry::merge {

RowStore::RowStore(sql::Database& db)
    : db_(db),
      general_{db.prepare("SELECT meta FROM ferry_rows WHERE tbl=?1 AND pk=?2", true),
               db.prepare("INSERT INTO ferry_rows(tbl, pk, meta) VALUES(?1, ?2, ?3)", true),
               db.prepare("UPDATE ferry_rows SET meta=?3 WHERE tbl=?1 AND pk=?2", true)} {}

RowStore::IntegerKeyed& RowStore::integer_keyed(std::int64_t table) {
  auto it = by_table_.find(table);
  if (it != by_table_.end()) return it->second;
  const std::string name = "ferry_rows_" + std::to_string(table);
  db_.exec("CREATE TABLE IF NOT EXISTS " + name + "(k INTEGER PRIMARY KEY, meta BLOB NOT NULL)");
  IntegerKeyed st{
      db_.prepare("SELECT meta FROM " + name + " WHERE k=?1", true),
      db_.prepare("SELECT k, meta FROM " + name + " WHERE k>=?1 ORDER BY k LIMIT " + std::to_string(kWindowRows), true),
      sql::BlobRows(db_, "INSERT INTO " + name + "(k, meta)"), sql::BlobRows(db_, "INSERT OR REPLACE INTO " + name + "(k, meta)")};
  auto max = db_.prepare("SELECT max(k) FROM " + name);
  if (max.step() && !max.is_null(0)) st.max_key = max.integer(0), st.any = true;
  return by_table_.emplace(table, std::move(st)).first->second;
}

const RowStore::Held* RowStore::held(std::int64_t table, const std::vector<Value>& key, const std::string& pk) const {
  if (integer_key(key)) {
    auto it = held_integer_.find({table, key[0].as_integer()});
    return it == held_integer_.end() ? nullptr : &it->second;
  }
  auto it = held_general_.find({table, pk});
  return it == held_general_.end() ? nullptr : &it->second;
}

bool RowStore::load(std::int64_t table, const std::vector<Value>& key, RowStates& out) {
  const std::string pk = integer_key(key) ? std::string() : log::encode_values(key);
  if (const Held* h = held(table, key, pk)) {
    out = decode_meta(std::string_view(reinterpret_cast<const char*>(h->meta.data()), h->meta.size()), db_.path());
    return true;
  }
  if (integer_key(key)) return load_integer(table, key[0].as_integer(), out);
  general_.load.bind(1, table).bind_blob_view(2, pk.data(), pk.size());
  const bool found = general_.load.step();
  if (found) out = decode_meta(general_.load.blob_view(0), db_.path());
  general_.load.reset();
  return found;
}

bool RowStore::load_integer(std::int64_t table, std::int64_t key, RowStates& out) {
  IntegerKeyed& s = integer_keyed(table);
  if (!s.any || key > s.max_key) return false;
  Window& w = window_;
  const bool walking = w.table == table && key > w.last && key - w.last <= kWindowRows;
  const bool inside = w.table == table && key >= w.from && key <= w.to;
  w.table = table;
  w.last = key;
  if (!inside && !walking) {  // Anywhere else: one lookup.
    s.load.bind(1, key);
    const bool found = s.load.step();
    if (found) out = decode_meta(s.load.blob_view(0), db_.path());
    s.load.reset();
    return found;
  }
  if (!inside) {
    w.rows.clear();
    s.window.bind(1, key);
    while (s.window.step()) w.rows.emplace_back(s.window.integer(0), std::string(s.window.blob_view(1)));
    s.window.reset();
    w.from = key;
    // A short read reached the table's end: no greater key is stored.
    w.to = static_cast<std::int64_t>(w.rows.size()) < kWindowRows ? std::numeric_limits<std::int64_t>::max()
                                                                   : w.rows.back().first;
  }
  auto it = std::lower_bound(w.rows.begin(), w.rows.end(), key, [](const auto& row, std::int64_t k) { return row.first < k; });
  if (it == w.rows.end() || it->first != key) return false;
  out = decode_meta(it->second, db_.path());
  return true;
}

template <typename Map, typename Key>
void RowStore::hold(Map& map, Key where, Bytes meta, bool existed) {
  auto it = map.find(where);
  if (it != map.end()) {
    it->second.meta = std::move(meta);  // Held already: whether it is stored stays as first found.
    return;
  }
  if (held_integer_.size() + held_general_.size() >= kMaxHeld) flush();
  map.emplace(std::move(where), Held{std::move(meta), existed});
}

void RowStore::save(std::int64_t table, const std::vector<Value>& key, const RowStates& meta, bool existed) {
  if (integer_key(key)) {
    hold(held_integer_, std::make_pair(table, key[0].as_integer()), encode_meta(meta), existed);
  } else {
    hold(held_general_, std::make_pair(table, log::encode_values(key)), encode_meta(meta), existed);
  }
}

void RowStore::flush() {
  window_.from = 0, window_.to = -1;  // What it read is about to change.
  window_.rows.clear();
  for (const auto& [where, h] : held_integer_) {
    IntegerKeyed& s = integer_keyed(where.first);
    const std::string_view meta(reinterpret_cast<const char*>(h.meta.data()), h.meta.size());
    (h.stored ? s.replaces : s.inserts).add(where.second, meta);
    if (!s.any || where.second > s.max_key) s.max_key = where.second, s.any = true;
  }
  for (auto& [table, s] : by_table_) s.inserts.flush(), s.replaces.flush();
  held_integer_.clear();
  for (const auto& [where, h] : held_general_) {
    sql::Statement& st = h.stored ? general_.update : general_.insert;
    st.bind(1, where.first)
        .bind_blob_view(2, where.second.data(), where.second.size())
        .bind_blob_view(3, h.meta.data(), h.meta.size());
    st.run();
  }
  held_general_.clear();
}

bool RowStore::holds_any(sql::Database& db, std::int64_t table) {
  auto general = db.prepare("SELECT 1 FROM ferry_rows WHERE tbl=? LIMIT 1");
  general.bind(1, table);
  if (general.step()) return true;
  const std::string own = "ferry_rows_" + std::to_string(table);
  auto exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?");
  exists.bind(1, std::string_view(own));
  if (!exists.step()) return false;
  return db.prepare("SELECT 1 FROM " + own + " LIMIT 1").step();
}

void RowStore::for_each(sql::Database& db, const std::function<void(const RowStates&)>& fn) {
  std::vector<std::string> tables{"ferry_rows"};
  auto names = db.prepare("SELECT name FROM sqlite_schema WHERE type='table' AND name GLOB 'ferry_rows_[0-9]*'");
  while (names.step()) tables.push_back(names.text(0));
  for (const auto& t : tables) {
    auto rows = db.prepare("SELECT meta FROM " + sql::quote_identifier(t));
    while (rows.step()) fn(decode_meta(rows.blob_view(0), db.path()));
  }
}

}  // namespace ferry::merge
