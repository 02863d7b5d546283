// A format 4.0 bundle from a stranger: numbered chains and tables, and
// operations in zstd segments. Each way of breaking its structure is refused
// by name before anything is kept, and what a newer ferry writes is refused as
// newer (bundle_format/format4.md §5, §6). Bit flips anywhere: damage_test.cc.
#include <catch2/catch.hpp>

#include <filesystem>
#include <msgpack.hpp>

#include "bundle/format.h"
#include "bundle/segment.h"
#include "support/refusal.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

struct Fixture {
  test::TempDir dir;
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};
  std::string good = dir.file("good.ferry");

  Fixture() {
    a.sql("INSERT INTO items VALUES(1, 'bolt'), (2, 'nut'), (3, 'washer'); UPDATE items SET name = 'screw' WHERE id = 1");
    test::export_all(a, good);
  }

  // A copy of the good bundle, changed with plain SQL.
  std::string tampered(const std::string& sql) {
    const std::string path = dir.file("tampered.ferry");
    test::write_file(path, test::read_file(good));
    test::exec(path, sql);
    return path;
  }

  // A copy whose one segment holds `edit(raw)`, recompressed, with raw_size and count set to fit.
  std::string with_segment(const std::function<void(std::string& raw)>& edit, std::int64_t count = 4) {
    const std::string path = tampered("SELECT 1");
    auto db = test::app(path);
    auto read = db.prepare("SELECT data, raw_size FROM ferry_segments");
    REQUIRE(read.step());
    const Bytes data = read.blob(0);
    std::string raw = bundle::SegmentDecompressor().decompress(
        std::string_view(reinterpret_cast<const char*>(data.data()), data.size()),
        static_cast<std::size_t>(read.integer(1)), bundle::kMaxSegmentBytes, "test");
    REQUIRE_FALSE(read.step());
    edit(raw);
    const std::string frame = bundle::SegmentCompressor().compress(raw);
    auto write = db.prepare("UPDATE ferry_segments SET data = ?, raw_size = ?, count = ?");
    write.bind_blob(1, frame.data(), frame.size()).bind(2, static_cast<std::int64_t>(raw.size())).bind(3, count);
    write.run();
    return path;
  }

  Error refused(const std::string& path, Errc code, const std::string& says) {
    const Error e = test::expect_refusal(b, path, code);
    CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains(says));
    if (code == Errc::corrupt) {
      CHECK_FALSE(verify_bundle(path).ok);
    } else {
      CHECK_THROWS_WITH(verify_bundle(path), Catch::Contains("upgrade ferry"));  // Newer: not to be judged here.
    }
    (void)b.engine.import_bundle(good);  // The genuine bundle still imports.
    CHECK(b.dump("items") == a.dump("items"));
    return e;
  }
};

}  // namespace

TEST_CASE("a 4.0 bundle holds its operations compressed, and verifies and imports", "[bundle][format4]") {
  Fixture f;
  const BundleInfo info = inspect_bundle(f.good);
  CHECK(info.format_major == 4);
  CHECK(info.operations == 4);
  CHECK(test::count(f.good, "SELECT count(*) FROM ferry_segments") == 1);
  CHECK(test::count(f.good, "SELECT count FROM ferry_segments") == 4);
  CHECK(verify_bundle(f.good).ok);
  CHECK(f.b.engine.import_bundle(f.good).applied == 4);
  CHECK(f.b.dump("items") == f.a.dump("items"));
}

TEST_CASE("a segment's stated sizes are checked before anything is allocated", "[bundle][format4][damage]") {
  Fixture f;
  SECTION("a segment claiming 10 GB once decompressed") {
    f.refused(f.tampered("UPDATE ferry_segments SET raw_size = 10737418240"), Errc::corrupt,
              "claims 10737418240 bytes once decompressed; a segment of 4 operations holds at most 1048576");
  }
  SECTION("a segment whose frame states another size than the bundle") {
    f.refused(f.tampered("UPDATE ferry_segments SET raw_size = raw_size + 1"), Errc::corrupt, "states");
  }
  SECTION("a count beyond its range") {
    f.refused(f.tampered("UPDATE ferry_segments SET count = 5"), Errc::corrupt, "runs outside its range");
  }
  SECTION("a segment starting past the operation expected") {
    f.refused(f.tampered("UPDATE ferry_segments SET first_seq = 2"), Errc::corrupt, "expected operation 1 next");
  }
  SECTION("a segment removed") {
    f.refused(f.tampered("DELETE FROM ferry_segments"), Errc::corrupt, "operations are missing");
  }
  SECTION("a segment of a chain without a range") {
    f.refused(f.tampered("UPDATE ferry_segments SET chain = 9"), Errc::corrupt, "chain 9, which has no range");
  }
}

TEST_CASE("a segment holds exactly its count of stored operations", "[bundle][format4][damage]") {
  Fixture f;
  SECTION("bytes after the last operation") {
    f.refused(f.with_segment([](std::string& raw) { raw += '\xc0'; }), Errc::corrupt, "holds more bytes than its 4 operations");
  }
  SECTION("more operations than its count") {
    f.refused(f.tampered("UPDATE ferry_segments SET count = 3"), Errc::corrupt, "holds more bytes than its 3 operations");
  }
  SECTION("fewer operations than its count") {
    auto first_three = [](std::string& raw) {
      std::size_t offset = 0;
      for (int i = 0; i < 3; ++i) (void)msgpack::unpack(raw.data(), raw.size(), offset);
      raw.resize(offset);
    };
    f.refused(f.with_segment(first_three), Errc::corrupt, "holds fewer operations than its count");
  }
  SECTION("a stored form that is not one") {
    f.refused(f.with_segment([](std::string& raw) { raw[0] = '\x93'; }), Errc::corrupt, "operation 1 of device");
  }
}

TEST_CASE("a 4.0 bundle's chains and tables are numbered without gaps, in order, each named", "[bundle][format4][damage]") {
  Fixture f;
  SECTION("a gap in the chains' numbers") {
    f.refused(f.tampered("UPDATE ferry_chains SET number = 2"), Errc::corrupt, "chains are not numbered 1, 2, 3");
  }
  SECTION("a chain the bundle numbers but names nowhere") {
    f.refused(f.tampered("INSERT INTO ferry_chains VALUES(2, x'ffffffffffffffffffffffffffffffff', '')"), Errc::corrupt,
              "numbers chain 2 but names it nowhere");
  }
  SECTION("chains out of the order of their ids") {
    f.refused(f.tampered("INSERT INTO ferry_chains VALUES(2, x'00000000000000000000000000000001', '')"), Errc::corrupt,
              "not in the order of their ids");
  }
  SECTION("a scope in a bundle of a format without scopes") {
    f.refused(f.tampered("UPDATE ferry_chains SET scope = 'clinic-7'"), Errc::corrupt,
              "names scope 'clinic-7' in a bundle of format 4.0, which has none");
  }
  SECTION("a device posing as a scope's chain, or a scope no device may name") {
    f.refused(f.tampered("INSERT INTO ferry_chains VALUES(2, x'ffffffffffff8fffffffffffffffffff', '')"), Errc::corrupt,
              "UUID version 8");
    f.refused(f.tampered(std::string("UPDATE ferry_bundle SET format_minor = 2;") + bundle::kSchema41Sql +
                         bundle::kSchema42Sql + "UPDATE ferry_chains SET scope = '*all'"),
              Errc::corrupt, "reserved");
  }
  SECTION("a gap in the tables' numbers") {
    f.refused(f.tampered("UPDATE ferry_tables SET number = 2"), Errc::corrupt, "tables are not numbered 1, 2, 3");
  }
  SECTION("a clock naming a chain the bundle does not number") {
    f.refused(f.tampered("UPDATE ferry_bundle SET clock = x'91920203'"), Errc::corrupt, "a chain the bundle numbers");
  }
}

TEST_CASE("what a newer ferry writes is refused as newer, changing nothing", "[bundle][format4]") {
  Fixture f;
  SECTION("a minor version with a table this ferry does not know") {
    f.refused(f.tampered(std::string(bundle::kSchema41Sql) + bundle::kSchema42Sql +  // Minor versions add up.
                         "CREATE TABLE ferry_grants(x INTEGER) STRICT; UPDATE ferry_bundle SET format_minor = 9"),
              Errc::refused, "uses bundle format 4.9, with tables this ferry does not know");
  }
  SECTION("the same table, in a bundle that does not say it is newer, is damage") {
    f.refused(f.tampered("CREATE TABLE ferry_grants(x INTEGER) STRICT"), Errc::corrupt, "schema object a bundle may not have");
  }
}

TEST_CASE("export writes format 3 for a peer still running ferry 3.x, and no other", "[bundle][format4]") {
  Fixture f;
  ExportOptions old;
  old.all = true;
  old.format = 3;
  const std::string path = f.dir.file("for-3x.ferry");
  // What a device sealed as format 2 cannot go to a ferry 3.x peer: refused by name, no file.
  CHECK_THROWS_WITH(f.a.engine.export_bundle(path, old),
                    Catch::Contains("operation 1 of device " + f.a.engine.device_id().to_string() +
                                    " is of a format bundle format 3 cannot carry") &&
                        Catch::Contains("ferry compat DB 3"));
  CHECK_FALSE(std::filesystem::exists(path));
  // A device told that a peer runs ferry 3.x seals what that peer reads.
  f.b.engine.set_ferry3_compatible(true);
  CHECK(f.b.engine.status().ferry3_compatible);
  f.b.sql("INSERT INTO items VALUES(7, 'nail'); UPDATE items SET name = 'pin' WHERE id = 7");
  (void)f.b.engine.export_bundle(path, old);
  CHECK(inspect_bundle(path).format_major == 3);
  CHECK(test::count(path, "SELECT count(*) FROM ferry_ops") == 2);
  CHECK(test::count(path, "SELECT count(*) FROM ferry_ops WHERE substr(body, 2, 1) = x'01'") == 2);
  CHECK(f.a.engine.import_bundle(path).applied == 2);
  // Turned off again, the next change is format 2: a chain may mix both.
  f.b.engine.set_ferry3_compatible(false);
  f.b.sql("UPDATE items SET name = 'tack' WHERE id = 7");
  CHECK_THROWS_WITH(f.b.engine.export_bundle(f.dir.file("x3.ferry"), old), Catch::Contains("operation 3 of device"));
  test::exchange(f.b, f.a, f.dir);
  test::exchange(f.a, f.b, f.dir);
  CHECK(f.a.dump("items") == f.b.dump("items"));
  old.format = 5;
  CHECK_THROWS_WITH(f.a.engine.export_bundle(f.dir.file("x.ferry"), old),
                    Catch::Contains("bundle format 5 cannot be written"));
}

TEST_CASE("a snapshot carries the causal rows of its chains, each checked before it is believed", "[bundle][format4][snapshot]") {
  Fixture f;
  f.b.sql("INSERT INTO items VALUES(9, 'pin')");
  (void)f.b.engine.import_bundle(f.good);
  f.b.sql("UPDATE items SET name = 'tack' WHERE id = 9");  // b's second operation follows a's four.
  const std::string snapshot = f.dir.file("snapshot.ferry");
  ExportOptions options;
  options.snapshot = true;
  (void)f.b.engine.export_bundle(snapshot, options);
  REQUIRE(test::count(snapshot, "SELECT count(*) FROM ferry_deps") == 1);
  auto copy = [&](const std::string& from, const std::string& sql) {
    const std::string path = f.dir.file("tampered-snapshot.ferry");
    test::write_file(path, test::read_file(from));
    test::exec(path, sql);
    return path;
  };
  auto refused = [&](const std::string& path, const std::string& says) {
    test::TempDir elsewhere;
    test::Replica newcomer(elsewhere, "c", kSchema);
    const Error e = test::expect_refusal(newcomer, path, Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains(says));
    CHECK_FALSE(verify_bundle(path).ok);
  };
  SECTION("the genuine one starts a device that goes on with b") {
    test::TempDir elsewhere;
    test::Replica newcomer(elsewhere, "c", kSchema);
    (void)newcomer.engine.import_bundle(snapshot);
    CHECK(newcomer.dump("items") == f.b.dump("items"));
    CHECK(newcomer.engine.verify().ok);
    newcomer.sql("UPDATE items SET name = 'nail' WHERE id = 9");
    test::exchange(newcomer, f.b, elsewhere);
    CHECK(newcomer.dump("items") == f.b.dump("items"));
  }
  SECTION("a row that says more than was seen") {
    refused(copy(snapshot, "UPDATE ferry_deps SET dep_seq = 5"), "content hash does not match");
  }
  SECTION("a row beyond its chain's head") {
    refused(copy(snapshot, "UPDATE ferry_deps SET seq = 3"), "is beyond the chain's head");
  }
  SECTION("a row naming its own chain") {
    refused(copy(snapshot, "UPDATE ferry_deps SET dep = chain"), "names a chain it does not number, or its own");
  }
  SECTION("a row naming a chain the snapshot does not number") {
    refused(copy(snapshot, "UPDATE ferry_deps SET dep = 7"), "names a chain it does not number, or its own");
  }
  SECTION("an earlier row that says more than the one after it") {
    refused(copy(snapshot, "INSERT INTO ferry_deps SELECT chain, dep, seq - 1, dep_seq + 1 FROM ferry_deps"),
            "says less than the row before it");
  }
  SECTION("rows in a delta bundle") {
    refused(copy(f.good, "INSERT INTO ferry_deps VALUES(1, 1, 1, 1)"), "which only a snapshot carries");
  }
}

TEST_CASE("a 4.1 bundle names its addressee once, and only a bundle with a reference may say a chain is absent",
          "[bundle][format4]") {
  Fixture f;
  test::exchange(f.b, f.a, f.dir);  // b's bundle for a: a may answer against it.
  f.good = f.dir.file("for-b.ferry");
  ExportOptions for_b;
  for_b.peer = f.b.engine.device_id().to_string();
  f.a.engine.export_bundle(f.good, for_b);
  const BundleInfo info = inspect_bundle(f.good);
  REQUIRE(info.format_minor == 1);
  REQUIRE(info.reference);
  REQUIRE(verify_bundle(f.good).ok);

  SECTION("two addressees") {
    f.refused(f.tampered("INSERT INTO ferry_addressee SELECT * FROM ferry_addressee"), Errc::corrupt,
              "more than one addressee row");
  }
  SECTION("none") {
    f.refused(f.tampered("DELETE FROM ferry_addressee"), Errc::corrupt, "names no addressee");
  }
  SECTION("an addressee id that is not 16 bytes") {
    f.refused(f.tampered("UPDATE ferry_addressee SET device = X'00'"), Errc::corrupt, "addressee.device");
  }
  SECTION("another reference than the one signed") {
    f.refused(f.tampered("UPDATE ferry_addressee SET reference = zeroblob(16)"), Errc::corrupt, "content hash");
  }
  SECTION("a snapshot with an addressee") {
    f.refused(f.tampered("UPDATE ferry_bundle SET kind = 'snapshot'"), Errc::corrupt, "a snapshot with an addressee");
  }
  SECTION("the 4.1 table in a bundle that says it is 4.0") {
    f.refused(f.tampered("UPDATE ferry_bundle SET format_minor = 0"), Errc::corrupt, "ferry_addressee");
  }
  SECTION("4.1 without the table") {
    f.refused(f.tampered("DROP TABLE ferry_addressee"), Errc::corrupt, "lacks the table ferry_addressee");
  }
  SECTION("a chain said absent, in a 4.0 bundle that has no reference") {
    // fixarray(1)[ fixarray(2)[ chain 1, seq 0 ] ].
    f.good = f.dir.file("good.ferry");
    f.refused(f.tampered("UPDATE ferry_bundle SET clock = X'91920100'"), Errc::corrupt, "between 1 and 2^62");
  }
}
