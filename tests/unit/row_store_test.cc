// RowStore: merge state held back in memory within a session and written by
// flush() -- once per row, and all of it when too many rows are held.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ferry/error.h"
#include "replica/schema.h"
#include "merge/row_store.h"
#include "sql/database.h"
#include "support/support.h"

using namespace ferry;
using merge::RowMeta;
using merge::RowStore;

namespace {

merge::RowStates state(std::uint64_t seq) {
  RowMeta m;
  m.exist.push_back(merge::Stamp{1, seq, seq, false});
  m.cell("name").push_back(merge::Stamp{2, seq + 1, seq + 7, false});
  return {m};
}

std::int64_t stored_rows(sql::Database& db, const std::string& table) {
  auto st = db.prepare("SELECT count(*) FROM " + table);
  st.step();
  return st.integer(0);
}

// A database with ferry's tables, a write transaction open on it, and its RowStore.
struct InTransaction {
  test::TempDir dir;
  sql::Database db{dir.file("m.db"), sql::Database::Mode::create};
  bool prepared = (replica::create_schema(db), true);
  sql::Transaction tx{db};
  RowStore rows{db};
};

}  // namespace

TEST_CASE("saved merge state is read back before and after flush, and written only by flush", "[merge]") {
  test::TempDir dir;
  sql::Database db(dir.file("m.db"), sql::Database::Mode::create);
  replica::create_schema(db);
  const std::vector<Value> five{Value::integer(5)}, text_key{Value::text("k"), Value::integer(2)};
  {
    RowStore rows(db);
    merge::RowStates out;
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
  merge::RowStates out;
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
  InTransaction t;
  sql::Database& db = t.db;
  RowStore& rows = t.rows;
  const std::int64_t n = (std::int64_t{1} << 17) + 3;  // Three beyond what is held at once.
  for (std::int64_t k = 1; k <= n; ++k) rows.save(4, {Value::integer(k)}, state(static_cast<std::uint64_t>(k)), false);
  CHECK(stored_rows(db, "ferry_rows_4") == n - 3);  // The first 2^17, written when the next came.
  for (std::int64_t k : {std::int64_t{1}, n - 3, n - 2, n}) {  // From disk and from memory alike.
    merge::RowStates out;
    REQUIRE(rows.load(4, {Value::integer(k)}, out));
    CHECK(merge::encode_meta(out) == merge::encode_meta(state(static_cast<std::uint64_t>(k))));
  }
  rows.save(4, {Value::integer(1)}, state(77), true);
  rows.flush();
  CHECK(stored_rows(db, "ferry_rows_4") == n);
  merge::RowStates out;
  REQUIRE(rows.load(4, {Value::integer(1)}, out));
  CHECK(merge::encode_meta(out) == merge::encode_meta(state(77)));
}

TEST_CASE("a session walking back over rows it wrote reads them a window at a time and sees every change", "[merge]") {
  InTransaction t;
  sql::Database& db = t.db;
  RowStore& rows = t.rows;
  auto key = [](std::int64_t k) { return std::vector<Value>{Value::integer(k)}; };
  auto holds = [&](std::int64_t k, std::uint64_t seq) {
    merge::RowStates out;
    return rows.load(2, key(k), out) && merge::encode_meta(out) == merge::encode_meta(state(seq));
  };
  auto absent = [&](std::int64_t k) {
    merge::RowStates out;
    return !rows.load(2, key(k), out);
  };
  // More rows than are held at once (2^17), every seventh key left out: gaps inside each window.
  const std::int64_t n = std::int64_t{1} << 18;
  for (std::int64_t k = 1; k <= n; ++k)
    if (k % 7 != 0) rows.save(2, key(k), state(static_cast<std::uint64_t>(k)), false);

  SECTION("a write of a row that a window holds is seen after it is flushed") {
    REQUIRE(holds(9, 9));
    REQUIRE(holds(10, 10));  // The next key up: keys 10.. are read from disk at once.
    rows.save(2, key(11), state(500), true);
    rows.flush();
    CHECK(holds(11, 500));
    CHECK(holds(12, 12));
  }
  SECTION("up the keys, down the keys, and with new rows in the gaps") {
    int mismatches = 0;
    for (std::int64_t k = 1; k <= n + 10; ++k) {  // Up: the walk the window serves.
      const bool ok = k % 7 == 0 || k > n ? absent(k) : holds(k, static_cast<std::uint64_t>(k));
      mismatches += ok ? 0 : 1;
      // A new state for each row and a new row in each gap; the held rows overflow on the way.
      if (k <= n) rows.save(2, key(k), state(static_cast<std::uint64_t>(k) + 1000000), k % 7 != 0);
    }
    CHECK(mismatches == 0);
    for (std::int64_t k = n; k >= 1; --k)  // Down: one lookup each, from memory or disk.
      mismatches += holds(k, static_cast<std::uint64_t>(k) + 1000000) ? 0 : 1;
    CHECK(mismatches == 0);
    rows.flush();
    CHECK(stored_rows(db, "ferry_rows_2") == n);
    RowStore later(db);
    for (std::int64_t k = 1; k <= n; k += 97) {
      merge::RowStates out;
      REQUIRE(later.load(2, key(k), out));
      CHECK(merge::encode_meta(out) == merge::encode_meta(state(static_cast<std::uint64_t>(k) + 1000000)));
    }
  }
}

TEST_CASE("a row's merge state keeps one state per scope, the shared scope's alone in the form before scopes",
          "[merge][scope]") {
  const merge::RowStates shared = state(4);
  const Bytes one = merge::encode_meta(shared);
  REQUIRE(!one.empty());
  CHECK(one[0] == 0x93);  // [flags, exist, columns]: what every database before scopes holds.
  CHECK(merge::encode_meta(merge::decode_meta(std::string_view(reinterpret_cast<const char*>(one.data()), one.size()),
                                              "t")) == one);

  merge::RowStates moved;  // Written in clinic 8, then in clinic 7: kept by scope bytes.
  merge::state_of(moved, "clinic-8").exist.push_back(merge::Stamp{3, 1, 9, true});
  RowMeta& seven = merge::state_of(moved, "clinic-7");
  seven.exist.push_back(merge::Stamp{4, 2, 10, false});
  seven.cell("name").push_back(merge::Stamp{5, 1, 11, false});
  REQUIRE(moved.size() == 2);
  CHECK(moved[0].scope == "clinic-7");
  CHECK(&merge::state_of(moved, "clinic-8") == &moved[1]);  // Found, not added.
  const Bytes two = merge::encode_meta(moved);
  CHECK(two[0] == 0x98);  // Four fields a state.
  const auto back = merge::decode_meta(std::string_view(reinterpret_cast<const char*>(two.data()), two.size()), "t");
  REQUIRE(back.size() == 2);
  CHECK(back[1].scope == "clinic-8");
  CHECK(back[1].exist == moved[1].exist);
  CHECK(back[0].find("name")->front().seq == 1);
  CHECK(merge::encode_meta(back) == two);

  merge::RowStates lone;  // One state of a scope takes the long form too: the short one is the shared scope's.
  merge::state_of(lone, "clinic-7") = seven;
  CHECK(merge::encode_meta(lone)[0] == 0x94);
  // Out of scope order, or the shared scope's one state in the long form, is damage.
  auto malformed = [](Bytes bytes) {
    try {
      merge::decode_meta(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "m.db");
      return std::string("accepted");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  merge::RowStates only_shared = shared;
  Bytes long_shared = merge::encode_meta(lone);
  const std::string seven_text = "\xa8" "clinic-7";
  const Bytes seven_name(seven_text.begin(), seven_text.end());
  long_shared.resize(long_shared.size() - seven_name.size());
  long_shared.push_back(0xa0);
  CHECK_THAT(malformed(long_shared), Catch::Contains("malformed merge state"));
  Bytes swapped = two;
  const auto at = std::search(swapped.begin(), swapped.end(), seven_name.begin(), seven_name.end());
  REQUIRE(at != swapped.end());
  at[8] = '9';  // clinic-9 before clinic-8.
  CHECK_THAT(malformed(swapped), Catch::Contains("malformed merge state"));
}
