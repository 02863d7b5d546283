// Nothing enters the log or lasting state that a reader would refuse later:
// counters that could no longer grow, a clock wider than an operation can
// carry. A chain, once poisoned, cannot be mended, so such input is refused at
// the door, by name, and the device goes on working (RELIABILITY section 8,
// "kept before bounded").
#include <catch2/catch.hpp>

#include "log/codec.h"
#include "support/crowd.h"
#include "support/refusal.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

using test::expect_refusal;

// `from` seals one more row, exports everything to `to`, and `to` takes it.
void still_syncs(Replica& from, Replica& to, const test::TempDir& dir, int id) {
  from.sql("INSERT INTO items VALUES(" + std::to_string(id) + ", 'still syncing')");
  test::exchange(from, to, dir);
  CHECK(from.dump("items") == to.dump("items"));
  CHECK(from.engine.verify().ok);
}

}  // namespace

TEST_CASE("an operation whose Lamport time no chain could have reached is refused as damage", "[bounds]") {
  test::TempDir dir;
  Replica b(dir, "b", kSchema);
  Replica c(dir, "c", kSchema);
  const std::string bundle = dir.file("crowd.ferry");
  SECTION("format 1, made by hand: its clock bounds it, so the file alone is refused") {
    test::write_crowd_bundle(bundle, {1, std::uint64_t{INT64_MAX}});
    const Error e = expect_refusal(b, bundle, Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains("Lamport time 9223372036854775807 is more than the 1 operations"));
    CHECK_FALSE(verify_bundle(bundle).ok);
  }
  SECTION("format 2, from a device whose own counter was set near the end: bounded once its past is held") {
    Replica a(dir, "a", kSchema);
    a.sql("UPDATE ferry_meta SET value = 9223372036854775806 WHERE key = 'lamport'; INSERT INTO items VALUES(1, 'x')");
    test::export_all(a, bundle);
    const Error e = expect_refusal(b, bundle, Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains("operation 1 of device " + a.engine.device_id().to_string() +
                                         " has Lamport time 9223372036854775807, more than one past 0, the greatest "
                                         "of the operations it follows"));
  }
  // b's own counter can still grow: it seals, exports and c verifies what it sent.
  still_syncs(b, c, dir, 7);
}

TEST_CASE("an impossible Lamport time left pending by an earlier import is discarded, not a stop for later ones",
          "[bounds]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'a1')");
  const std::string first = dir.file("a1.ferry");
  test::export_all(a, first);
  // a's second operation jumps to the end of the counter; c receives only it, so it waits there for the first.
  a.sql("UPDATE ferry_meta SET value = 9223372036854775806 WHERE key = 'lamport'; INSERT INTO items VALUES(2, 'a2')");
  ExportOptions since;
  since.since = c.engine.clock();
  since.since->set(a.engine.device_id(), 1);
  const std::string second = dir.file("a2.ferry");
  (void)a.engine.export_bundle(second, since);
  CHECK(c.engine.import_bundle(second).pending == 1);
  // The first arrives: the second is ready, proves impossible, and is discarded with a message; the rest applies.
  const ImportSummary s = c.engine.import_bundle(first);
  CHECK(s.applied == 1);
  REQUIRE(s.discarded.size() == 1);
  CHECK_THAT(s.discarded[0], Catch::Contains("operation 2 of device " + a.engine.device_id().to_string() +
                                             " has Lamport time 9223372036854775807"));
  CHECK(c.engine.status().pending_operations == 0);
  CHECK_THAT(c.dump("items"), Catch::Contains("a1") && !Catch::Contains("a2"));
  still_syncs(c, b, dir, 7);
}

TEST_CASE("an honest crowd's Lamport times pass, and counters past 2^62 are refused by the decoder", "[bounds]") {
  test::TempDir dir;
  Replica b(dir, "b", kSchema);
  const std::string bundle = dir.file("crowd.ferry");
  test::write_crowd_bundle(bundle, {3, 1});
  const ImportSummary s = b.engine.import_bundle(bundle);
  CHECK(s.applied == 3);
  Operation op;
  op.origin.bytes[0] = 1;
  op.seq = log::kMaxCounter + 1;
  op.lamport = op.seq;
  op.clock.set(op.origin, op.seq);
  op.table = "items";
  op.key = {Value::integer(1)};
  CHECK_THROWS_WITH(log::decode(log::encode(op), "op"), Catch::Contains("seq") && Catch::Contains("2^62"));
  VectorClock clock;
  clock.set(op.origin, log::kMaxCounter + 1);
  CHECK_THROWS_WITH(log::decode_clock(log::encode_clock(clock), "clock"), Catch::Contains("2^62"));
  clock.set(op.origin, log::kMaxCounter);
  CHECK(log::decode_clock(log::encode_clock(clock), "clock").get(op.origin) == log::kMaxCounter);
}

TEST_CASE("a device sealing for ferry 3.x peers refuses a bundle that would widen its clock past what format 1 "
          "carries, and format 2 has no such wall", "[bounds]") {
  test::TempDir dir;
  Replica b(dir, "b", kSchema);
  Replica c(dir, "c", kSchema);
  const std::string bundle = dir.file("crowd.ferry");
  test::write_crowd_bundle(bundle, {log::kMaxArray, 1});  // With b itself, one device more than format 1 names.
  SECTION("format 1: refused whole, and b goes on") {
    b.engine.set_ferry3_compatible(true);
    b.sql("INSERT INTO items VALUES(100000, 'b was here')");
    (void)b.engine.status();
    const Error e = expect_refusal(b, bundle, Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("4097 devices") && Catch::Contains("Nothing was imported") &&
                             Catch::Contains("ferry compat DB 4"));
    CHECK(b.engine.verify().ok);
    still_syncs(b, c, dir, 7);
  }
  SECTION("format 2: imported; b's next operation follows all 4,096 chains and travels") {
    b.sql("INSERT INTO items VALUES(100000, 'b was here')");
    const VectorClock before = b.engine.clock();
    CHECK(b.engine.import_bundle(bundle).applied == log::kMaxArray);
    b.sql("UPDATE items SET name = 'b has heard from the crowd' WHERE id = 100000");
    const auto ops = b.engine.log();
    REQUIRE(!ops.empty());
    CHECK(ops.front().origin == b.engine.device_id());
    CHECK(ops.front().clock.entries().size() == log::kMaxArray);  // One more than a format 1 clock could hold.
    // b's own chain alone (the crowd's is the costly part to carry again): a reader takes its 4,096 deps,
    // and c keeps the operations until the crowd's arrive.
    ExportOptions own;
    own.since = b.engine.clock();
    own.since->set(b.engine.device_id(), before.get(b.engine.device_id()));
    const std::string mine = dir.file("b-own.ferry");
    (void)b.engine.export_bundle(mine, own);
    CHECK(verify_bundle(mine).ok);
    CHECK(c.engine.import_bundle(mine).pending == 1);
    CHECK(b.engine.verify().ok);
  }
}

TEST_CASE("a value larger than a bundle may carry is held back, listed and sealed once it fits, the rest syncs",
          "[bounds][held]") {
  test::TempDir dir;
  const char* schema = "CREATE TABLE files(id INTEGER PRIMARY KEY, data BLOB, note TEXT)";
  Replica a(dir, "a", schema);
  Replica b(dir, "b", schema);
  const std::string over = "zeroblob(" + std::to_string(log::kMaxValueBytes + 1) + ")";
  a.sql("INSERT INTO files VALUES(1, " + over + ", 'too big'), (2, x'00', 'fine')");
  SECTION("held while too big, and sealed as it then is once smaller") {
    test::exchange(a, b, dir);
    StatusReport s = a.engine.status();
    REQUIRE(s.held.size() == 1);
    CHECK(s.held[0].table == "files");
    CHECK(s.held[0].key == std::vector<Value>{Value::integer(1)});
    CHECK_THAT(s.held[0].reason, Catch::Contains("column 'data' holds 67108865 bytes") &&
                                     Catch::Contains("67108864 a value may have"));
    CHECK(b.dump("files") == "2|x'00'|'fine'\n");  // Everything else went.
    a.sql("UPDATE files SET note = 'still too big' WHERE id = 1");
    ExportOptions all;
    all.all = true;
    const ExportSummary e = a.engine.export_bundle(dir.file("held.ferry"), all);
    CHECK(e.held.size() == 1);
    a.sql("UPDATE files SET data = x'0102' WHERE id = 1");
    test::exchange(a, b, dir);
    CHECK(a.engine.status().held.empty());
    CHECK(b.dump("files") == a.dump("files"));
  }
  SECTION("gone again before it was ever sent") {
    a.sql("DELETE FROM files WHERE id = 1");
    test::exchange(a, b, dir);
    CHECK(a.engine.status().held.empty());
    CHECK(b.dump("files") == "2|x'00'|'fine'\n");
  }
  CHECK(a.engine.verify().ok);
  CHECK(b.engine.verify().ok);
}

TEST_CASE("names longer than a bundle may carry are refused at init and track, by name", "[bounds]") {
  test::TempDir dir;
  const std::string long_name(log::kMaxNameBytes + 1, 'n');
  CHECK_THROWS_WITH(Engine::init(dir.file("x.db"), long_name), Catch::Contains("1025 bytes") && Catch::Contains("--name"));
  Replica a(dir, "a", kSchema);
  a.sql("CREATE TABLE " + long_name + "(id INTEGER PRIMARY KEY); CREATE TABLE wide(id INTEGER PRIMARY KEY, " + long_name +
        " TEXT)");
  try {
    (void)a.engine.track(long_name);
    FAIL("tracked");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("its name is 1025 bytes") && Catch::Contains("RENAME TO"));
  }
  CHECK_THROWS_WITH(a.engine.track("wide"), Catch::Contains("has a name of 1025 bytes") && Catch::Contains("RENAME COLUMN"));
  CHECK(a.engine.tables().size() == 1);
  ExportOptions all;
  all.all = true;
  (void)a.engine.export_bundle(dir.file("a.ferry"), all);
}
