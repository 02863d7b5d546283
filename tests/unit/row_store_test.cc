// RowStore: merge state held back in memory within a session and written by
// flush() -- once per row, and all of it when too many rows are held.
#include <catch2/catch.hpp>

#include "engine/schema.h"
#include "merge/row_store.h"
#include "sql/database.h"
#include "support/support.h"

using namespace ferry;
using merge::RowMeta;
using merge::RowStore;

namespace {

RowMeta state(std::uint64_t seq) {
  RowMeta m;
  m.exist.push_back(merge::Stamp{1, seq, seq, false});
  m.cell("name").push_back(merge::Stamp{2, seq + 1, seq + 7, false});
  return m;
}

std::int64_t stored_rows(sql::Database& db, const std::string& table) {
  auto st = db.prepare("SELECT count(*) FROM " + table);
  st.step();
  return st.integer(0);
}

}  // namespace

TEST_CASE("saved merge state is read back before and after flush, and written only by flush", "[merge]") {
  test::TempDir dir;
  sql::Database db(dir.file("m.db"), sql::Database::Mode::create);
  engine::create_schema(db);
  const std::vector<Value> five{Value::integer(5)}, text_key{Value::text("k"), Value::integer(2)};
  {
    RowStore rows(db);
    RowMeta out;
    CHECK_FALSE(rows.load(1, five, out));
    rows.save(1, five, state(1), false);
    rows.save(1, five, state(2), true);  // The same row again: still held once.
    rows.save(1, text_key, state(3), false);
    REQUIRE(rows.load(1, five, out));
    CHECK(merge::encode_meta(out) == merge::encode_meta(state(2)));
    REQUIRE(rows.load(1, text_key, out));
    CHECK(merge::encode_meta(out) == merge::encode_meta(state(3)));
    CHECK(stored_rows(db, "ferry_rows") == 0);
    rows.flush();
    CHECK(stored_rows(db, "ferry_rows_1") == 1);
    CHECK(stored_rows(db, "ferry_rows") == 1);
  }
  RowStore later(db);  // A new session reads what the last one flushed.
  RowMeta out;
  REQUIRE(later.load(1, five, out));
  CHECK(merge::encode_meta(out) == merge::encode_meta(state(2)));
  later.save(1, five, state(9), true);  // Stored before: flush updates it.
  later.flush();
  CHECK(stored_rows(db, "ferry_rows_1") == 1);
  RowStore third(db);
  REQUIRE(third.load(1, five, out));
  CHECK(merge::encode_meta(out) == merge::encode_meta(state(9)));
}

TEST_CASE("too many held rows are written before more are held, and none is lost", "[merge]") {
  test::TempDir dir;
  sql::Database db(dir.file("m.db"), sql::Database::Mode::create);
  engine::create_schema(db);
  sql::Transaction tx(db);
  RowStore rows(db);
  const std::int64_t n = (std::int64_t{1} << 17) + 3;  // Three beyond what is held at once.
  for (std::int64_t k = 1; k <= n; ++k) rows.save(4, {Value::integer(k)}, state(static_cast<std::uint64_t>(k)), false);
  CHECK(stored_rows(db, "ferry_rows_4") == n - 3);  // The first 2^17, written when the next came.
  for (std::int64_t k : {std::int64_t{1}, n - 3, n - 2, n}) {  // From disk and from memory alike.
    RowMeta out;
    REQUIRE(rows.load(4, {Value::integer(k)}, out));
    CHECK(merge::encode_meta(out) == merge::encode_meta(state(static_cast<std::uint64_t>(k))));
  }
  rows.save(4, {Value::integer(1)}, state(77), true);
  rows.flush();
  CHECK(stored_rows(db, "ferry_rows_4") == n);
  RowMeta out;
  REQUIRE(rows.load(4, {Value::integer(1)}, out));
  CHECK(merge::encode_meta(out) == merge::encode_meta(state(77)));
}
