#include "capture/tables.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "ferry/error.h"
#include "fleet/fleet.h"
#include "log/codec.h"

namespace ferry::capture {
namespace {

using sql::quote_identifier;

std::string trigger_name(const std::string& table, const char* event) {
  return quote_identifier("ferry_capture_" + table + "_" + event);
}

Bytes encode_names(const std::vector<std::string>& names) {
  std::vector<Value> values;
  for (const auto& n : names) values.push_back(Value::text(n));
  const std::string enc = log::encode_values(values);
  return Bytes(enc.begin(), enc.end());
}

std::vector<std::string> decode_names(const Bytes& b, const std::string& where) {
  std::vector<std::string> out;
  for (const auto& v : log::decode_values(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), where)) {
    if (v.type() != Value::Type::text) throw Error(Errc::corrupt, where + ": column names must be text");
    out.push_back(v.as_text());
  }
  return out;
}

// Whether a column of this declared type can hold an integer and a real that
// compare equal (1 and 1.0), following SQLite's affinity rules
// (sqlite.org/datatype3.html, 3.1): INTEGER and NUMERIC affinity store a real
// with an integer value as that integer, REAL affinity stores integers as
// reals, TEXT affinity stores numbers as text. BLOB affinity (no type, or
// BLOB) keeps both, and so does a STRICT table's ANY; any other NUMERIC-affinity
// name is treated the same way, to be safe.
bool may_hold_equal_numbers_of_two_types(std::string type) {
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  auto has = [&](const char* s) { return type.find(s) != std::string::npos; };
  if (has("INT")) return false;
  if (has("CHAR") || has("CLOB") || has("TEXT")) return false;
  if (has("BLOB") || type.empty()) return true;
  if (has("REAL") || has("FLOA") || has("DOUB")) return false;
  return true;
}

// Rows are told apart by their key's bytes (bundle_format/ section 8). A key
// that SQLite compares with another collation would make 'a' and 'A' one row
// in the table but two to ferry, and devices would keep different rows.
void refuse_collated_key(sql::Database& db, const std::string& table) {
  auto st = db.prepare("SELECT x.name, x.coll FROM pragma_index_list(?1) AS l, pragma_index_xinfo(l.name) AS x "
                       "WHERE l.origin='pk' AND x.key=1 AND x.coll<>'BINARY' COLLATE NOCASE");
  st.bind(1, table);
  if (st.step())
    throw Error(Errc::refused, "table '" + table + "': its primary key column '" + st.text(0) + "' compares with COLLATE " +
                                   st.text(1) + ", so keys ferry tells apart (such as 'a' and 'A') would be one row "
                                   "here, and devices could keep different rows without a conflict. Track a table "
                                   "whose key uses the default BINARY collation (store, say, lower(" + st.text(0) +
                                   ") in the key)");
}

void finish(TrackedTable& t) {
  t.sorted_positions.resize(t.columns.size());
  std::iota(t.sorted_positions.begin(), t.sorted_positions.end(), 0);
  std::sort(t.sorted_positions.begin(), t.sorted_positions.end(),
            [&](int a, int b) { return t.columns[static_cast<std::size_t>(a)] < t.columns[static_cast<std::size_t>(b)]; });
}

}  // namespace

std::string capture_column(char kind, std::size_t index) { return std::string(1, kind) + std::to_string(index); }

std::vector<std::string> TrackedTable::key_names() const {
  std::vector<std::string> out;
  for (int p : key_positions) out.push_back(columns[static_cast<std::size_t>(p)]);
  return out;
}

bool TrackedTable::is_key(const std::string& column) const {
  const int p = position(column);
  return p >= 0 && std::count(key_positions.begin(), key_positions.end(), p) > 0;
}

int TrackedTable::position(const std::string& column) const {
  auto it = std::find(columns.begin(), columns.end(), column);
  return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
}

TableInfo TrackedTable::info() const { return TableInfo{name, columns, key_names(), scope}; }

std::string KeyIdentity::ambiguity(const std::vector<Value>& key) {
  for (std::size_t i = 0; i < key.size() && i < table_->key_positions.size(); ++i) {
    const Value& v = key[i];
    if (!v.is_null() && v.type() != Value::Type::real) continue;  // Told apart alike: the common case, no lookup.
    const std::string column =
        "key column '" + printable(table_->columns[static_cast<std::size_t>(table_->key_positions[i])]) + "'";
    if (v.is_null())
      return column + " is NULL, and SQLite keeps every row with a NULL key apart where ferry cannot: give the row a "
                      "key (declaring the column NOT NULL keeps this from happening again)";
    // Integers are exact in a double up to 2^63 in magnitude; -0.0 is integral too.
    const bool integral = v.type() == Value::Type::real && v.as_real() == std::trunc(v.as_real()) &&
                          v.as_real() >= -9223372036854775808.0 && v.as_real() < 9223372036854775808.0;
    if (integral && keeps_type_.empty()) {
      auto type = db_->prepare("SELECT type FROM pragma_table_xinfo(?) WHERE name = ?");
      for (int p : table_->key_positions) {
        type.bind(1, table_->name).bind(2, table_->columns[static_cast<std::size_t>(p)]);
        keeps_type_.push_back(type.step() && may_hold_equal_numbers_of_two_types(type.text(0)));
        type.reset();
      }
    }
    if (integral && keeps_type_[i])
      return column + " holds the REAL " + v.to_display() + ", which SQLite takes for the same row as the INTEGER " +
             std::to_string(static_cast<std::int64_t>(v.as_real())) + " (and -0.0 as 0.0) while ferry would not: store the key "
             "as an INTEGER, or declare the column INTEGER or REAL";
  }
  return {};
}

namespace {

// Names and widths are sealed into every operation and read back by every
// receiver: what a reader would refuse must never be tracked (bundle_format/README.md §6, "Limits").
void refuse_what_bundles_cannot_carry(const TrackedTable& t) {
  const std::string limit = std::to_string(log::kMaxNameBytes) + " bytes a bundle may carry in a name";
  if (t.name.size() > log::kMaxNameBytes)
    throw Error(Errc::refused, "table '" + printable(t.name) + "': its name is " + std::to_string(t.name.size()) +
                                   " bytes, more than the " + limit + "; rename it (ALTER TABLE ... RENAME TO) and "
                                   "track it under the shorter name");
  for (const auto& c : t.columns)
    if (c.size() > log::kMaxNameBytes)
      throw Error(Errc::refused, "table '" + printable(t.name) + "': column '" + printable(c) + "' has a name of " +
                                     std::to_string(c.size()) + " bytes, more than the " + limit +
                                     "; rename it (ALTER TABLE ... RENAME COLUMN) and track the table again");
  if (t.columns.size() > log::kMaxArray)
    throw Error(Errc::refused, "table '" + printable(t.name) + "' has " + std::to_string(t.columns.size()) +
                                   " columns, more than the " + std::to_string(log::kMaxArray) + " an operation may carry");
}

}  // namespace

TrackedTable introspect(sql::Database& db, const std::string& table, bool ferry_own) {
  if ((table.rfind("ferry_", 0) == 0 && !(ferry_own && table == fleet::kGrantsTable)) || table.rfind("sqlite_", 0) == 0)
    throw Error(Errc::refused, "table '" + table + "' belongs to ferry or SQLite and cannot be tracked");
  auto kind = db.prepare("SELECT type, sql FROM sqlite_schema WHERE name=? AND type IN ('table','view')");
  kind.bind(1, table);
  if (!kind.step())
    throw Error(Errc::not_found, db.path() + ": no table named '" + table +
                                     "' (names are case-sensitive here; `.tables` in sqlite3 lists them)");
  if (kind.text(0) == "view") throw Error(Errc::refused, "'" + table + "' is a view; only tables can be tracked");
  if (kind.text(1).rfind("CREATE VIRTUAL", 0) == 0)
    throw Error(Errc::refused, "'" + table + "' is a virtual table; only ordinary tables can be tracked");

  TrackedTable t;
  t.name = table;
  std::vector<std::pair<int, int>> key;  // (pk order, position)
  auto info = db.prepare("SELECT name, pk, hidden FROM pragma_table_xinfo(?)");
  info.bind(1, table);
  while (info.step()) {
    if (info.integer(2) != 0) continue;  // Generated or hidden columns are derived, never written.
    const int pk = static_cast<int>(info.integer(1));
    if (pk > 0) key.emplace_back(pk, static_cast<int>(t.columns.size()));
    t.columns.push_back(info.text(0));
  }
  if (key.empty())
    throw Error(Errc::refused, "table '" + table +
                                   "' has no declared PRIMARY KEY; ferry identifies rows by primary key "
                                   "(rebuild the table with one, e.g. id INTEGER PRIMARY KEY)");
  std::sort(key.begin(), key.end());
  for (const auto& k : key) t.key_positions.push_back(k.second);
  refuse_what_bundles_cannot_carry(t);
  refuse_collated_key(db, table);
  finish(t);
  return t;
}

Registry::Registry(sql::Database& db) : db_(db) {
  auto st = db_.prepare("SELECT no, name, columns, key, tracked, scope FROM ferry_tables");
  while (st.step()) {
    TrackedTable t;
    t.no = st.integer(0);
    t.name = st.text(1);
    const std::string where = db_.path() + ": ferry_tables row for '" + t.name + "'";
    t.columns = decode_names(st.blob(2), where);
    for (const auto& k : decode_names(st.blob(3), where)) {
      const int p = t.position(k);
      if (p < 0) throw Error(Errc::corrupt, where + ": key column '" + k + "' is not a column");
      t.key_positions.push_back(p);
    }
    t.tracked = st.integer(4) != 0;
    t.scope = st.text(5);
    finish(t);
    by_name_[t.name] = std::move(t);
  }
}

const TrackedTable* Registry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

const TrackedTable& Registry::by_no(std::int64_t no) const {
  for (const auto& [name, t] : by_name_)
    if (t.no == no) return t;
  throw Error(Errc::corrupt, db_.path() + ": ferry_capture names unknown table number " + std::to_string(no));
}

std::vector<const TrackedTable*> Registry::tracked() const {
  std::vector<const TrackedTable*> out;
  for (const auto& [name, t] : by_name_)
    if (t.tracked) out.push_back(&t);
  return out;
}

bool Registry::track(TrackedTable table) {
  const TrackedTable* old = find(table.name);
  const bool is_new = old == nullptr || !old->tracked;
  auto st = db_.prepare(
      "INSERT INTO ferry_tables(name, columns, key, tracked, scope) VALUES(?, ?, ?, 1, ?) "
      "ON CONFLICT(name) DO UPDATE SET columns=excluded.columns, key=excluded.key, tracked=1, scope=excluded.scope "
      "RETURNING no");
  const Bytes cols = encode_names(table.columns), key = encode_names(table.key_names());
  st.bind(1, table.name).bind_blob(2, cols.data(), cols.size()).bind_blob(3, key.data(), key.size());
  st.bind(4, std::string_view(table.scope));
  st.step();
  table.no = st.integer(0);
  st.reset();
  table.tracked = true;
  widen_capture(table);
  drop_triggers(table.name);
  create_triggers(table);
  by_name_[table.name] = std::move(table);
  return is_new;
}

void Registry::untrack(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || !it->second.tracked)
    throw Error(Errc::not_found, "table '" + name + "' is not tracked");
  drop_triggers(name);
  auto st = db_.prepare("UPDATE ferry_tables SET tracked=0 WHERE name=?");
  st.bind(1, name);
  st.run();
  it->second.tracked = false;
}

void Registry::widen_capture(const TrackedTable& t) {
  std::set<std::string> have;
  auto st = db_.prepare("SELECT name FROM pragma_table_info('ferry_capture')");
  while (st.step()) have.insert(st.text(0));
  const std::size_t masks = (t.columns.size() + kMaskBits - 1) / kMaskBits;
  auto add = [&](char kind, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (!have.count(capture_column(kind, i))) db_.exec("ALTER TABLE ferry_capture ADD COLUMN " + capture_column(kind, i));
  };
  add('m', masks);
  add('k', t.key_positions.size());
  add('c', t.columns.size());
}

void Registry::drop_triggers(const std::string& name) {
  for (const char* event : {"insert", "update", "delete"})
    db_.exec("DROP TRIGGER IF EXISTS " + trigger_name(name, event));
}

void Registry::create_triggers(const TrackedTable& t) {
  const std::string table = quote_identifier(t.name), no = std::to_string(t.no);
  std::map<std::string, std::string> declared;  // Column name -> declared type.
  auto types = db_.prepare("SELECT name, type FROM pragma_table_xinfo(?)");
  types.bind(1, t.name);
  while (types.step()) declared[types.text(0)] = types.text(1);
  auto col = [&](const char* row, std::size_t i) { return std::string(row) + "." + quote_identifier(t.columns[i]); };
  // Byte for byte: BINARY, not the column's collation (NOCASE would hide 'a' -> 'A'),
  // and by type where the column's affinity lets 1 and 1.0 both be stored.
  auto changed = [&](std::size_t i) {
    const std::string differ = col("OLD", i) + " IS NOT " + col("NEW", i) + " COLLATE BINARY";
    if (!may_hold_equal_numbers_of_two_types(declared[t.columns[i]])) return "(" + differ + ")";
    return "(" + differ + " OR typeof(" + col("OLD", i) + ")<>typeof(" + col("NEW", i) + "))";
  };
  // SQL cannot tell -0.0 from 0.0 (=, IS, quote() and printf() all agree), so where
  // the column can keep a REAL zero's sign, every REAL zero of a non-key column is
  // flagged and the seal keeps it only if its bits differ from the merged value.
  auto flagged = [&](std::size_t i) {
    const bool is_key = std::count(t.key_positions.begin(), t.key_positions.end(), static_cast<int>(i)) > 0;
    if (is_key || !may_hold_equal_numbers_of_two_types(declared[t.columns[i]])) return changed(i);
    return "(" + changed(i) + " OR (typeof(" + col("NEW", i) + ")='real' AND " + col("NEW", i) + "=0))";
  };
  std::string key_changed;
  for (int k : t.key_positions) key_changed += std::string(key_changed.empty() ? "" : " OR ") + changed(static_cast<std::size_t>(k));
  std::string c_names, new_values, update_values;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    c_names += "," + capture_column('c', i);
    new_values += "," + col("NEW", i);
    const bool is_key = std::count(t.key_positions.begin(), t.key_positions.end(), static_cast<int>(i)) > 0;
    // Unchanged non-key values are not copied (an UPDATE of one column of a wide row stays
    // cheap) unless the key changed: then the row moved and the whole row is needed. A
    // scoped table's are: the seal evaluates the row's scope on the whole row (capture/scope.h).
    update_values += is_key || !t.scope.empty() ? "," + col("NEW", i)
                            : ",CASE WHEN " + flagged(i) + " OR " + key_changed + " THEN " + col("NEW", i) + " END";
  }
  std::string k_names, old_keys;
  for (std::size_t i = 0; i < t.key_positions.size(); ++i) {
    k_names += "," + capture_column('k', i);
    old_keys += "," + col("OLD", static_cast<std::size_t>(t.key_positions[i]));
  }
  std::string m_names, masks;
  for (std::size_t m = 0; m * kMaskBits < t.columns.size(); ++m) {
    m_names += "," + capture_column('m', m);
    std::string mask;
    for (std::size_t i = m * kMaskBits; i < std::min(t.columns.size(), (m + 1) * kMaskBits); ++i)
      mask += std::string(mask.empty() ? "" : "|") + "(" + flagged(i) + "<<" + std::to_string(i - m * kMaskBits) + ")";
    masks += "," + mask;
  }
  db_.exec("CREATE TRIGGER " + trigger_name(t.name, "insert") + " AFTER INSERT ON " + table +
           " BEGIN INSERT INTO ferry_capture(tbl,kind" + c_names + ") VALUES(" + no + "," + sql_of(CaptureKind::insert) + new_values + "); END");
  db_.exec("CREATE TRIGGER " + trigger_name(t.name, "update") + " AFTER UPDATE ON " + table +
           " BEGIN INSERT INTO ferry_capture(tbl,kind" + m_names + k_names + c_names + ") VALUES(" + no + "," + sql_of(CaptureKind::update) +
           masks + old_keys + update_values + "); END");
  db_.exec("CREATE TRIGGER " + trigger_name(t.name, "delete") + " AFTER DELETE ON " + table +
           " BEGIN INSERT INTO ferry_capture(tbl,kind" + k_names + ") VALUES(" + no + "," + sql_of(CaptureKind::remove) + old_keys + "); END");
}

void Registry::capture_existing_rows(const TrackedTable& t) {
  std::string cols, values, order;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    cols += "," + capture_column('c', i);
    values += "," + sql::quote_identifier(t.columns[i]);
  }
  for (int p : t.key_positions)
    order += std::string(order.empty() ? "" : ",") + sql::quote_identifier(t.columns[static_cast<std::size_t>(p)]);
  db_.exec("INSERT INTO ferry_capture(tbl,kind" + cols + ") SELECT " + std::to_string(t.no) + "," +
           sql_of(CaptureKind::insert) + values + " FROM " + sql::quote_identifier(t.name) + " ORDER BY " + order);
}

void Registry::suspend_triggers() {
  for (const auto& [name, t] : by_name_)
    if (t.tracked) drop_triggers(name);
  db_.exec("INSERT INTO ferry_meta(key, value) VALUES('applying', 1) ON CONFLICT(key) DO UPDATE SET value=1");
}

void Registry::rebuild_triggers() {
  for (const auto& [name, t] : by_name_) {
    if (!t.tracked) continue;
    drop_triggers(name);
    create_triggers(t);
  }
}

void Registry::restore_triggers() {
  db_.exec("DELETE FROM ferry_meta WHERE key='applying'");
  for (const auto& [name, t] : by_name_)
    if (t.tracked) create_triggers(t);
}

}  // namespace ferry::capture
