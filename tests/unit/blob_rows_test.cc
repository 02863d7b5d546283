// BlobRows: (INTEGER, BLOB) rows gathered and inserted many to a statement.
// What SQL sees is exactly what was added, in groups; find() sees the rest.
#include <catch2/catch.hpp>

#include "sql/blob_rows.h"
#include "sql/database.h"
#include "support/support.h"

using namespace ferry;

namespace {

struct Table {
  test::TempDir dir;
  sql::Database db{dir.file("t.db"), sql::Database::Mode::create};
  Table() { db.exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB NOT NULL)"); }

  std::int64_t rows() {
    auto st = db.prepare("SELECT count(*) FROM t");
    st.step();
    return st.integer(0);
  }
  std::string value(std::int64_t k) {
    auto st = db.prepare("SELECT v FROM t WHERE k=?");
    st.bind(1, k);
    return st.step() ? std::string(st.blob_view(0)) : "<missing>";
  }
};

std::string blob_for(int i) { return std::string(static_cast<std::size_t>(i % 7), 'x') + std::to_string(i); }

}  // namespace

TEST_CASE("rows reach the table in groups of 32 and at flush, each with its own bytes", "[sql]") {
  Table t;
  sql::BlobRows rows(t.db, "INSERT INTO t(k, v)");
  for (int i = 1; i <= 31; ++i) rows.add(i, blob_for(i));
  CHECK(t.rows() == 0);
  CHECK(rows.find(7) == std::optional<std::string_view>(blob_for(7)));
  rows.add(32, blob_for(32));
  rows.add(33, blob_for(33));  // The 33rd writes the first 32.
  CHECK(t.rows() == 32);
  CHECK_FALSE(rows.find(7));
  CHECK(rows.find(33) == std::optional<std::string_view>(blob_for(33)));
  rows.flush();
  CHECK(t.rows() == 33);
  for (int i = 1; i <= 33; ++i) CHECK(t.value(i) == blob_for(i));
  CHECK_FALSE(rows.find(33));
}

TEST_CASE("an empty blob and a blob with zero bytes inside are kept exactly", "[sql]") {
  Table t;
  sql::BlobRows rows(t.db, "INSERT INTO t(k, v)");
  rows.add(1, std::string_view());
  rows.add(2, std::string_view("a\0b", 3));
  rows.flush();
  CHECK(t.value(1).empty());
  CHECK(t.value(2) == std::string("a\0b", 3));
}

TEST_CASE("a duplicate key fails at flush, drops what was gathered, and the next rows still go in", "[sql]") {
  Table t;
  sql::BlobRows rows(t.db, "INSERT INTO t(k, v)");
  rows.add(1, "one");
  rows.flush();
  rows.add(2, "two");
  rows.add(1, "again");
  CHECK_THROWS_WITH(rows.flush(), Catch::Contains("UNIQUE constraint failed"));
  CHECK_FALSE(rows.find(2));
  rows.add(3, "three");
  rows.flush();
  CHECK(t.value(1) == "one");
  CHECK(t.value(3) == "three");
}

TEST_CASE("a full group with a duplicate key fails whole, and the rows after it still go in", "[sql]") {
  Table t;
  sql::BlobRows rows(t.db, "INSERT INTO t(k, v)");
  rows.add(5, "five");
  rows.flush();
  for (int i = 1; i <= 32; ++i) rows.add(i, blob_for(i));  // 5 again among them.
  CHECK_THROWS_WITH(rows.add(33, "33"), Catch::Contains("UNIQUE constraint failed"));
  CHECK(t.rows() == 1);  // The statement's rows went in together or not at all.
  rows.add(40, "forty");
  rows.flush();
  CHECK(t.rows() == 2);
  CHECK(t.value(40) == "forty");
}

TEST_CASE("what is held stays under a mebibyte: a large blob goes in at once, mid-sized ones in smaller groups",
          "[sql]") {
  Table t;
  sql::BlobRows rows(t.db, "INSERT INTO t(k, v)");
  const std::string large((1 << 20) + 1, 'L'), mid(400 << 10, 'm');
  rows.add(1, "small");
  rows.add(2, large);  // Writes the small one gathered before it, then itself.
  CHECK(t.rows() == 2);
  CHECK(t.value(2) == large);
  CHECK_FALSE(rows.find(2));
  rows.add(3, mid);
  rows.add(4, mid);
  CHECK(t.rows() == 2);
  rows.add(5, mid);  // 1.2 MiB would be held: the two before it are written first.
  CHECK(t.rows() == 4);
  CHECK(rows.find(5) == std::optional<std::string_view>(mid));
  rows.flush();
  CHECK(t.rows() == 5);
  CHECK(t.value(1) == "small");
}

TEST_CASE("a leading column holds the value given for each run of rows, in groups and one at a time", "[sql]") {
  test::TempDir dir;
  sql::Database db{dir.file("t.db"), sql::Database::Mode::create};
  db.exec("CREATE TABLE t(d BLOB NOT NULL, k INTEGER NOT NULL, v BLOB NOT NULL, PRIMARY KEY(d, k)) WITHOUT ROWID");
  sql::BlobRows rows(db, "INSERT INTO t(d, k, v)", true);
  rows.set_leading("first");
  for (int i = 1; i <= 40; ++i) rows.add(i, blob_for(i));  // One group of 32, then 8 left.
  rows.set_leading(std::string_view("sec\0nd", 6));         // Writes the 8 under "first".
  for (int i = 1; i <= 3; ++i) rows.add(i, blob_for(100 + i));
  rows.add(4, std::string(std::size_t{2} << 20, 'L'));  // Large: written at once, under the second.
  rows.flush();
  auto st = db.prepare("SELECT d, k, v FROM t ORDER BY d, k");
  std::vector<std::string> seen;
  while (st.step())
    seen.push_back(std::string(st.blob_view(0)) + "/" + std::to_string(st.integer(1)) + "/" +
                   std::string(st.blob_view(2)).substr(0, 8));
  REQUIRE(seen.size() == 44);
  CHECK(seen[0] == "first/1/" + blob_for(1).substr(0, 8));
  CHECK(seen[39] == "first/40/" + blob_for(40).substr(0, 8));
  CHECK(seen[40] == std::string("sec\0nd", 6) + "/1/" + blob_for(101).substr(0, 8));
  CHECK(seen[43] == std::string("sec\0nd", 6) + "/4/LLLLLLLL");
}
