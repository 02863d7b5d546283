#include "merge/row_store.h"

#include "log/codec.h"

namespace ferry::merge {

RowStore::RowStore(sql::Database& db)
    : db_(db),
      general_{db.prepare("SELECT meta FROM ferry_rows WHERE tbl=?1 AND pk=?2", true),
               db.prepare("INSERT INTO ferry_rows(tbl, pk, meta) VALUES(?1, ?2, ?3)", true),
               db.prepare("UPDATE ferry_rows SET meta=?3 WHERE tbl=?1 AND pk=?2", true)} {}

RowStore::Statements& RowStore::integer_keyed(std::int64_t table) {
  auto it = by_table_.find(table);
  if (it != by_table_.end()) return it->second;
  const std::string name = "ferry_rows_" + std::to_string(table);
  db_.exec("CREATE TABLE IF NOT EXISTS " + name + "(k INTEGER PRIMARY KEY, meta BLOB NOT NULL)");
  Statements st{db_.prepare("SELECT meta FROM " + name + " WHERE k=?2", true),
                db_.prepare("INSERT INTO " + name + "(k, meta) VALUES(?2, ?3)", true),
                db_.prepare("UPDATE " + name + " SET meta=?3 WHERE k=?2", true)};
  auto max = db_.prepare("SELECT max(k) FROM " + name);
  if (max.step() && !max.is_null(0)) st.max_key = max.integer(0), st.any = true;
  return by_table_.emplace(table, std::move(st)).first->second;
}

bool RowStore::load(std::int64_t table, const std::vector<Value>& key, RowMeta& out) {
  sql::Statement* chosen = &general_.load;
  if (integer_key(key)) {
    Statements& s = integer_keyed(table);
    if (!s.any || key[0].as_integer() > s.max_key) return false;
    chosen = &s.load;
  }
  sql::Statement& st = *chosen;
  std::string pk;
  if (integer_key(key)) {
    st.bind(2, key[0].as_integer());
  } else {
    pk = log::encode_values(key);
    st.bind(1, table).bind_blob_view(2, pk.data(), pk.size());
  }
  const bool found = st.step();
  if (found) out = decode_meta(st.blob_view(0), db_.path());
  st.reset();
  return found;
}

void RowStore::save(std::int64_t table, const std::vector<Value>& key, const RowMeta& meta, bool existed) {
  const Bytes encoded = encode_meta(meta);
  if (integer_key(key)) {
    Statements& s = integer_keyed(table);
    sql::Statement& st = existed ? s.update : s.insert;
    const std::int64_t k = key[0].as_integer();
    st.bind(2, k).bind_blob_view(3, encoded.data(), encoded.size());
    st.run();
    if (!s.any || k > s.max_key) s.max_key = k, s.any = true;
  } else {
    const std::string pk = log::encode_values(key);
    sql::Statement& st = existed ? general_.update : general_.insert;
    st.bind(1, table).bind_blob_view(2, pk.data(), pk.size()).bind_blob_view(3, encoded.data(), encoded.size());
    st.run();
  }
}

void RowStore::for_each(sql::Database& db, const std::function<void(const RowMeta&)>& fn) {
  std::vector<std::string> tables{"ferry_rows"};
  auto names = db.prepare("SELECT name FROM sqlite_schema WHERE type='table' AND name GLOB 'ferry_rows_[0-9]*'");
  while (names.step()) tables.push_back(names.text(0));
  for (const auto& t : tables) {
    auto rows = db.prepare("SELECT meta FROM " + sql::quote_identifier(t));
    while (rows.step()) fn(decode_meta(rows.blob_view(0), db.path()));
  }
}

}  // namespace ferry::merge
