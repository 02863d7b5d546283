#pragma once
// RowStore: where merge state (merge/row_meta.h) is kept, local to a database.
//   ferry_rows_<table no>(k INTEGER PRIMARY KEY, meta)  rows whose key is one INTEGER
//                                                       (the common case: a rowid lookup);
//   ferry_rows(tbl, pk, meta) WITHOUT ROWID             every other key, encoded (log/codec.h).
// The per-table tables are created on first use. A RowStore lives inside one
// write transaction.
//
// Writes are held back: save() keeps the encoded state in memory and flush()
// writes it, in key order, once per row however often the row changed -- an
// import or seal that inserts a row and then updates it writes its state once
// and never reads it back from disk. At most kMaxHeld rows are held (about
// 25 MB); beyond, everything held is written. Nothing is written without
// flush(): a session that fails simply drops what it held.
//
// A session of more changes than that comes back to rows it has written: a
// seal or import of a million inserts, then an update of each. When it visits
// an integer-keyed table in key order, the states are read a window of rows
// at a time, and written back many to a statement, instead of one statement
// per row each way.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ferry/value.h"
#include "merge/row_meta.h"
#include "sql/blob_rows.h"
#include "sql/database.h"

namespace ferry::merge {

class RowStore {
 public:
  explicit RowStore(sql::Database& db);

  // Reads the state of the row of `table` with `key` into `out`. Returns false,
  // leaving `out` alone, when none is stored.
  bool load(std::int64_t table, const std::vector<Value>& key, RowStates& out);
  // Stores it; `existed`: load() found one.
  void save(std::int64_t table, const std::vector<Value>& key, const RowStates& meta, bool existed);
  // Writes every state save() holds back. Call before anything reads ferry_rows.
  void flush();

  // Whether any row of table number `table` has merge state: an operation of it was applied.
  static bool holds_any(sql::Database& db, std::int64_t table);
  // Calls `fn` with every stored row's states.
  static void for_each(sql::Database& db, const std::function<void(const RowStates&)>& fn);

 private:
  struct Statements {
    sql::Statement load, insert, update;
  };
  struct IntegerKeyed {
    sql::Statement load, window;
    sql::BlobRows inserts;   // New rows are written in groups,
    sql::BlobRows replaces;  // and so are new states of stored rows.
    // Greatest key stored: a greater key has no state, so rows added in key
    // order -- new rowids -- are never looked up. Exact, since this connection
    // holds the write lock for the whole session.
    std::int64_t max_key = 0;
    bool any = false;
  };
  IntegerKeyed& integer_keyed(std::int64_t table);
  static bool integer_key(const std::vector<Value>& key) {
    return key.size() == 1 && key[0].type() == Value::Type::integer;
  }

  struct Held {
    Bytes meta;
    bool stored;  // A row exists in the table: flush() replaces it rather than inserts.
  };
  static constexpr std::size_t kMaxHeld = std::size_t{1} << 17;
  // The states of one integer-keyed table's keys [from, to], as stored: a key
  // in that range and not here has none. Read while loads walk up the keys.
  struct Window {
    std::int64_t table = 0, from = 0, to = -1;
    std::int64_t last = 0;  // The key loaded last from `table`.
    std::vector<std::pair<std::int64_t, std::string>> rows;  // By key.
  };
  static constexpr std::int64_t kWindowRows = 128;
  bool load_integer(std::int64_t table, std::int64_t key, RowStates& out);
  // `pk`: the encoded key, for keys that are not one INTEGER.
  const Held* held(std::int64_t table, const std::vector<Value>& key, const std::string& pk) const;
  // Holds `meta` for `where` in `map`, writing everything held first if too much is.
  template <typename Map, typename Key>
  void hold(Map& map, Key where, Bytes meta, bool existed);

  sql::Database& db_;
  Statements general_;
  std::map<std::int64_t, IntegerKeyed> by_table_;
  std::map<std::pair<std::int64_t, std::int64_t>, Held> held_integer_;  // (table, integer key)
  std::map<std::pair<std::int64_t, std::string>, Held> held_general_;   // (table, encoded key)
  Window window_;
};

}  // namespace ferry::merge
