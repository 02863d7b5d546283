// History: every version of a row, rebuilt from the log by the merge rules,
// matches what the replicas really held; a row or a whole table as of a past
// point is what a replica that had seen exactly that much held.
#include <catch2/catch.hpp>

#include <random>

#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, data BLOB)";

std::vector<Value> key(std::int64_t id) { return {Value::integer(id)}; }

const Value* column(const std::vector<ColumnValue>& values, const std::string& name) {
  for (const auto& c : values)
    if (c.name == name) return &c.value;
  return nullptr;
}

}  // namespace

TEST_CASE("a row's history shows each version, who made it, the conflicts, its deletion and re-creation",
          "[history]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 4, NULL)");
  test::exchange(a, b, dir);
  a.sql("UPDATE items SET qty = 7 WHERE id = 1");
  b.sql("UPDATE items SET qty = 9 WHERE id = 1");  // Concurrent with a's: a conflict.
  test::exchange(a, b, dir);
  test::exchange(b, a, dir);
  a.sql("DELETE FROM items WHERE id = 1");
  a.sql("INSERT INTO items VALUES(1, 'bolt, again', 1, x'00ff')");

  const auto versions = a.engine.history("items", key(1));
  REQUIRE(versions.size() == 5);
  CHECK(versions[0].operation.kind == OpKind::insert);
  CHECK(versions[0].exists);
  CHECK(*column(versions[0].values, "qty") == Value::integer(4));
  CHECK(versions[0].concurrent.empty());
  // The two concurrent updates, in (Lamport, device) order; each names the other.
  REQUIRE(versions[1].concurrent.size() == 1);
  REQUIRE(versions[2].concurrent.size() == 1);
  CHECK(versions[1].concurrent[0].id == versions[2].operation.id);
  CHECK(versions[2].concurrent[0].id == versions[1].operation.id);
  // After both, the winner's value, as the replicas hold it.
  const Value merged = *column(versions[2].values, "qty");
  CHECK(test::dump(b.path, "items").find(merged.to_display()) != std::string::npos);
  CHECK(versions[3].operation.kind == OpKind::remove);
  CHECK_FALSE(versions[3].exists);
  CHECK(versions[4].exists);
  CHECK(*column(versions[4].values, "name") == Value::text("bolt, again"));
  CHECK(*column(versions[4].values, "data") == Value::blob({0x00, 0xff}));

  SECTION("the row at a past clock is the row a replica held then") {
    const VectorClock b_then = b.engine.clock();
    const auto row = a.engine.row_at("items", key(1), PastPoint{b_then, std::nullopt});
    REQUIRE(row);
    CHECK(*column(*row, "qty") == merged);
    CHECK(*column(*row, "name") == Value::text("bolt"));
  }
  SECTION("before the first operation it did not exist; after the delete neither") {
    const VectorClock nothing;
    CHECK_FALSE(a.engine.row_at("items", key(1), PastPoint{nothing, std::nullopt}));
    VectorClock at_delete = a.engine.clock();
    at_delete.set(a.engine.device_id(), versions[3].operation.seq);
    CHECK_FALSE(a.engine.row_at("items", key(1), PastPoint{at_delete, std::nullopt}));
  }
  SECTION("by time: operations sealed at or before it") {
    const std::int64_t first_ms = versions[0].operation.id.unix_ms();
    const auto row = a.engine.row_at("items", key(1), PastPoint{std::nullopt, first_ms});
    REQUIRE(row);
    CHECK(*column(*row, "qty") == Value::integer(4));
    CHECK_FALSE(a.engine.row_at("items", key(1), PastPoint{std::nullopt, first_ms - 1}));
  }
  SECTION("mistakes are refused by name") {
    CHECK_THROWS_WITH(a.engine.history("nope", key(1)), Catch::Contains("never tracked a table called 'nope'"));
    CHECK_THROWS_WITH(a.engine.history("items", {}), Catch::Contains("primary key of items is (id)"));
    CHECK_THROWS_WITH(PastPoint::parse("yesterday"), Catch::Contains("neither a time"));
    CHECK_THROWS_WITH(PastPoint::parse("2026-13-01T00:00:00Z"), Catch::Contains("neither a time"));
    CHECK(PastPoint::parse("2026-12-01T10:00:00.5Z").unix_ms == 1796119200500);
  }
}

// The strongest check of the replay: across random concurrent edits, deletes
// and re-creations on three devices, a table "as of" a device's clock equals,
// byte for byte, the table that device held at that clock.
TEST_CASE("a table as of a past clock equals what a replica held at that clock", "[history][property]") {
  for (int seed = 1; seed <= 15; ++seed) {
    INFO("seed " << seed);
    std::mt19937_64 random(static_cast<std::uint64_t>(seed));
    test::TempDir dir;
    std::vector<std::unique_ptr<Replica>> r;
    for (const char* name : {"a", "b", "c"}) r.push_back(std::make_unique<Replica>(dir, name, kSchema));
    struct Seen {
      VectorClock clock;
      std::string dump;
    };
    std::vector<Seen> seen;
    for (int step = 0; step < 60; ++step) {
      const std::size_t at = random() % 3;
      Replica& x = *r[at];
      const int id = static_cast<int>(random() % 6);
      switch (random() % 5) {
        case 0: x.sql("INSERT OR IGNORE INTO items VALUES(" + std::to_string(id) + ", 'n" + std::to_string(step) +
                      "', " + std::to_string(step) + ", x'0" + std::to_string(step % 10) + "')"); break;
        case 1: x.sql("UPDATE items SET qty = " + std::to_string(step) + " WHERE id = " + std::to_string(id)); break;
        case 2: x.sql("UPDATE items SET name = NULL, data = x'ff' WHERE id = " + std::to_string(id)); break;
        case 3: x.sql("DELETE FROM items WHERE id = " + std::to_string(id)); break;
        default: test::exchange(*r[(at + 1 + random() % 2) % 3], x, dir); break;
      }
      if (random() % 4 == 0) seen.push_back(Seen{x.engine.clock(), x.dump("items")});
    }
    for (auto& from : r)
      for (auto& to : r)
        if (from != to) test::exchange(*from, *to, dir);
    seen.push_back(Seen{r[0]->engine.clock(), r[0]->dump("items")});
    Replica& everything = *r[static_cast<std::size_t>(seed) % 3];
    for (std::size_t i = 0; i < seen.size(); ++i) {
      INFO("point " << i << " of " << seen.size() << ": " << seen[i].clock.to_string());
      const std::string copy = dir.file("as-of-" + std::to_string(i) + ".db");
      (void)everything.engine.table_as_of("items", PastPoint{seen[i].clock, std::nullopt}, copy);
      CHECK(test::dump(copy, "items") == seen[i].dump);
    }
    // And each row's last version is the row the replicas hold.
    for (int id = 0; id < 6; ++id) {
      const auto versions = everything.engine.history("items", key(id));
      const auto now = everything.engine.row_at("items", key(id), PastPoint{});
      if (versions.empty()) CHECK_FALSE(now.has_value());
      else CHECK(versions.back().exists == now.has_value());
    }
  }
}

TEST_CASE("as-of writes a new file only, complete or not at all", "[history]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 4, NULL), (2, 'nut', 5, x'01')");
  const std::string copy = dir.file("copy.db");
  const AsOfSummary s = a.engine.table_as_of("items", PastPoint{}, copy);
  CHECK(s.rows == 2);
  CHECK(s.operations == 2);
  CHECK(test::dump(copy, "items") == a.dump("items"));
  CHECK_THROWS_WITH(a.engine.table_as_of("items", PastPoint{}, copy), Catch::Contains("already exists"));
  CHECK_THROWS_WITH(a.engine.table_as_of("items", PastPoint{}, dir.file("no/such/folder.db")), Catch::Contains("folder.db"));
  CHECK(test::run("ls " + test::shell_quote(dir.path()) + " | grep -c ferry-tmp").out == "0\n");
}
