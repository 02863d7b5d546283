#pragma once
// RowStore: where merge state (merge/row_meta.h) is kept, local to a database.
//   ferry_rows_<table no>(k INTEGER PRIMARY KEY, meta)  rows whose key is one INTEGER
//                                                       (the common case: a rowid lookup);
//   ferry_rows(tbl, pk, meta) WITHOUT ROWID             every other key, encoded (log/codec.h).
// The per-table tables are created on first use. A RowStore lives inside one
// write transaction.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ferry/value.h"
#include "merge/row_meta.h"
#include "sql/database.h"

namespace ferry::merge {

class RowStore {
 public:
  explicit RowStore(sql::Database& db);

  // Reads the state of the row of `table` with `key` into `out`. Returns false,
  // leaving `out` alone, when none is stored.
  bool load(std::int64_t table, const std::vector<Value>& key, RowMeta& out);
  // Stores it; `existed`: load() found one.
  void save(std::int64_t table, const std::vector<Value>& key, const RowMeta& meta, bool existed);

  // Calls `fn` with every stored row state.
  static void for_each(sql::Database& db, const std::function<void(const RowMeta&)>& fn);

 private:
  struct Statements {
    sql::Statement load, insert, update;
    // Greatest key stored (integer-keyed tables): a greater key has no state, so
    // rows added in key order -- new rowids -- are never looked up. Exact, since
    // this connection holds the write lock for the whole session.
    std::int64_t max_key = 0;
    bool any = false;
  };
  Statements& integer_keyed(std::int64_t table);
  static bool integer_key(const std::vector<Value>& key) {
    return key.size() == 1 && key[0].type() == Value::Type::integer;
  }

  sql::Database& db_;
  Statements general_;
  std::map<std::int64_t, Statements> by_table_;
};

}  // namespace ferry::merge
