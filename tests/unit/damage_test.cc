// A damaged bundle is exit 3 and changes nothing: not the data, not the log, and
// none of the records an import keeps for good (fork evidence, the evidence of a
// copied device, pinned keys, announced clocks). Whatever a bundle says is
// believed only once every byte of it has been checked against its hashes and
// signatures (RELIABILITY section 8, "believed before authenticated").
#include <catch2/catch.hpp>

#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

// Every row of every table, ferry's own included: all a database keeps.
std::string everything(const std::string& path) {
  auto db = test::app(path);
  auto tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  std::string out;
  while (tables.step()) {
    const std::string table = tables.text(0);
    out += table + ":\n";
    auto rows = db.prepare("SELECT * FROM " + sql::quote_identifier(table) + " ORDER BY 1");
    while (rows.step()) {
      for (int i = 0; i < rows.column_count(); ++i) out += (i ? "|" : "") + rows.value(i).to_display();
      out += "\n";
    }
  }
  return out;
}

// Flips bit `bit` of byte `byte` of one field, keeping the field's SQLite type
// (an INTEGER field has its bit `byte * 8 + bit` flipped).
// `where` picks the row.
void flip(const std::string& path, const std::string& table, const std::string& column, const std::string& where,
          std::size_t byte, int bit) {
  auto db = test::app(path);
  auto read = db.prepare("SELECT " + column + " FROM " + table + " WHERE " + where);
  REQUIRE(read.step());
  Value v = read.value(0);
  if (v.type() == Value::Type::integer) {
    v = Value::integer(static_cast<std::int64_t>(static_cast<std::uint64_t>(v.as_integer()) ^ (1ull << (byte * 8 + bit))));
  } else if (v.type() == Value::Type::text) {
    std::string s = v.as_text();
    s[byte] = static_cast<char>(s[byte] ^ (1 << bit));
    v = Value::text(s);
  } else {
    REQUIRE(v.type() == Value::Type::blob);
    Bytes b = v.as_blob();
    b[byte] = static_cast<std::uint8_t>(b[byte] ^ (1 << bit));
    v = Value::blob(b);
  }
  auto write = db.prepare("UPDATE " + table + " SET " + column + " = ? WHERE " + where);
  write.bind(1, v);
  write.run();
  REQUIRE(db.changes() == 1);
}

// How many bytes (or, for an INTEGER, bytes of its 64 bits) a field has.
std::size_t field_size(const std::string& path, const std::string& table, const std::string& column,
                       const std::string& where) {
  auto db = test::app(path);
  auto st = db.prepare("SELECT typeof(" + column + "), length(CAST(" + column + " AS BLOB)) FROM " + table + " WHERE " +
                       where);
  REQUIRE(st.step());
  return st.text(0) == "integer" ? 8 : static_cast<std::size_t>(st.integer(1));
}

// The row of `table` at position `n` in the order of `key`, its primary key.
std::string nth_row(const std::string& table, const std::string& key, std::int64_t n) {
  if (key.empty()) return "1";  // ferry_bundle: one row.
  return "(" + key + ") = (SELECT " + key + " FROM " + table + " ORDER BY " + key + " LIMIT 1 OFFSET " +
         std::to_string(n) + ")";
}

// A bundle's tables, each with its primary key and the columns to damage.
struct TableFields {
  std::string table, key;
  std::vector<std::string> columns;
};

std::vector<TableFields> fields_of_format(unsigned format) {
  const std::vector<std::string> manifest = {"format_major", "format_minor", "bundle_id", "exporter", "exporter_name",
                                             "created_ms", "kind", "clock", "operations", "content_hash", "signer_key",
                                             "box_key", "signature"};
  const std::vector<std::string> range = {"first_seq", "last_seq", "prev_hash", "last_hash", "origin_key", "head_signature"};
  auto with = [](std::string first, std::vector<std::string> rest) {
    rest.insert(rest.begin(), std::move(first));
    return rest;
  };
  if (format == 3) return {{"ferry_bundle", "", manifest}, {"ferry_ranges", "origin", with("origin", range)}};
  return {{"ferry_bundle", "", manifest},
          {"ferry_chains", "number", {"number", "device", "scope"}},
          {"ferry_ranges", "chain", with("chain", range)},
          {"ferry_tables", "number", {"number", "name", "columns", "key"}},
          {"ferry_segments", "chain, first_seq", {"chain", "first_seq", "count", "raw_size", "data"}}};
}

// Two devices that trust each other strictly and have exchanged a first change each.
struct Pair {
  test::TempDir dir;
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};

  // ferry3: both seal what ferry 3.x reads, so that format 3 can carry it.
  explicit Pair(bool ferry3 = false) {
    a.engine.set_ferry3_compatible(ferry3);
    b.engine.set_ferry3_compatible(ferry3);
    a.sql("INSERT INTO items VALUES(1, 'from a')");
    b.sql("INSERT INTO items VALUES(2, 'from b')");
    test::exchange(a, b, dir);
    test::exchange(b, a, dir);
    a.engine.set_strict(true);
    b.engine.set_strict(true);
    a.sql("INSERT INTO items VALUES(3, 'later from a'); UPDATE items SET name = 'changed by a' WHERE id = 2");
  }

  std::string export_for_b(const std::string& name, unsigned format = 0) {
    ExportOptions options;
    options.peer = "b";
    options.format = format;
    const std::string path = dir.file(name);
    (void)a.engine.export_bundle(path, options);
    return path;
  }

  std::string copy_of(const std::string& bundle, const std::string& name) {
    const std::string path = dir.file(name);
    test::write_file(path, test::read_file(bundle));
    return path;
  }

  // Imports `bundle` into b: it must be refused as damaged, b must keep exactly
  // what it held, and `good` must still import afterwards.
  void refused_as_damage(const std::string& bundle, const std::string& good) {
    const std::string before = everything(b.path);
    try {
      (void)b.engine.import_bundle(bundle);
      FAIL("the damaged bundle was accepted");
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(e.code() == Errc::corrupt);
    }
    CHECK(everything(b.path) == before);
    CHECK_FALSE(verify_bundle(bundle).ok);
    (void)b.engine.import_bundle(good);
    CHECK(b.dump("items") == a.dump("items"));
  }
};

}  // namespace

TEST_CASE("a flipped bit in a bundle's clock is damage, not evidence that this database is a copy", "[damage]") {
  Pair p;
  const std::string good = p.export_for_b("a1.ferry");
  const std::string bad = p.copy_of(good, "a1-flipped.ferry");
  // b's own entry in the stated clock: {a: 3, b: 1} becomes {a: 3, b: 5}, more of
  // b's chain than b holds -- what a restored copy of b would see.
  const std::size_t size = field_size(bad, "ferry_bundle", "clock", "1");
  auto b_entry_is_last = test::count(bad, "SELECT substr(hex(clock), -2) = '01' FROM ferry_bundle");
  REQUIRE(b_entry_is_last == 1);
  flip(bad, "ferry_bundle", "clock", "1", size - 1, 2);
  p.refused_as_damage(bad, good);
  // The genuine bundle went in, and b is not frozen: it seals and exports.
  const std::size_t operations = p.b.engine.status().operations;
  p.b.sql("INSERT INTO items VALUES(4, 'b goes on')");
  CHECK(p.b.engine.status().operations == operations + 1);
  test::exchange(p.b, p.a, p.dir);
  CHECK(p.a.dump("items") == p.b.dump("items"));
}

TEST_CASE("a flipped bit in an operation the receiver holds plants no fork evidence", "[damage]") {
  const unsigned format = GENERATE(3u, 4u);
  INFO("format " << format);
  Pair p(format == 3);
  ExportOptions all;
  all.all = true;
  all.format = format;
  const std::string good = p.dir.file("all.ferry");
  (void)p.a.engine.export_bundle(good, all);
  // Operation 1 of a, which b already holds: a bit of its last byte (3.0: the text's last letter; 4.0: the
  // segment's, under its checksum).
  const std::string bad = p.copy_of(good, "all-flipped.ferry");
  if (format == 3) {
    const std::string op1 = "seq = 1 AND origin = (SELECT exporter FROM ferry_bundle)";
    flip(bad, "ferry_ops", "body", op1, field_size(bad, "ferry_ops", "body", op1) - 1, 0);
  } else {
    const std::string op1 = "first_seq = 1 AND chain = (SELECT number FROM ferry_chains, ferry_bundle WHERE device = exporter)";
    flip(bad, "ferry_segments", "data", op1, field_size(bad, "ferry_segments", "data", op1) - 1, 0);
  }
  p.refused_as_damage(bad, good);
  CHECK(test::count(p.b.path, "SELECT count(*) FROM ferry_forks") == 0);
}

TEST_CASE("a flipped bit in a range's previous hash plants no fork evidence", "[damage]") {
  Pair p;
  const std::string good = p.export_for_b("a1.ferry");
  const std::string bad = p.copy_of(good, "a1-flipped.ferry");
  flip(bad, "ferry_ranges", "prev_hash", "first_seq > 1", 7, 3);
  p.refused_as_damage(bad, good);
  CHECK(test::count(p.b.path, "SELECT count(*) FROM ferry_forks") == 0);
}

TEST_CASE("a bit flipped anywhere in a bundle's tables is damage: exit 3, nothing kept", "[damage]") {
  const unsigned format = GENERATE(3u, 4u);
  INFO("format " << format);
  Pair p(format == 3);
  const std::string good = p.export_for_b("a1.ferry", format);
  std::size_t flips = 0;
  for (const auto& [table, key, columns] : fields_of_format(format)) {
    const auto rows = test::count(good, "SELECT count(*) FROM " + table);
    REQUIRE(rows >= 1);
    for (std::int64_t row = 0; row < rows; ++row) {
      for (const auto& column : columns) {
        const std::string where = nth_row(table, key, row);
        const std::size_t size = field_size(good, table, column, where);
        // Integers: the low bits and the sign bit; other fields: one bit of every byte.
        std::vector<std::pair<std::size_t, int>> bits;
        if (test::count(good, "SELECT typeof(" + column + ") = 'integer' FROM " + table + " WHERE " + where) == 1) {
          bits = {{0, 0}, {0, 2}, {7, 7}};
        } else {
          for (std::size_t i = 0; i < size; ++i) bits.emplace_back(i, static_cast<int>(i % 8));
        }
        for (const auto& [byte, bit] : bits) {
          INFO(table << "." << column << " row " << row << " byte " << byte << " bit " << bit);
          const std::string bad = p.copy_of(good, "flipped.ferry");
          flip(bad, table, column, where, byte, bit);
          const std::string before = everything(p.b.path);
          try {
            (void)p.b.engine.import_bundle(bad);
            FAIL("the damaged bundle was accepted");
          } catch (const Error& e) {
            INFO(e.what());
            CHECK(e.code() == Errc::corrupt);
          }
          CHECK(everything(p.b.path) == before);
          ++flips;
        }
      }
    }
  }
  CHECK(flips > 300);
  (void)p.b.engine.import_bundle(good);
  CHECK(p.b.dump("items") == p.a.dump("items"));
}
