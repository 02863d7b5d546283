// A database restored from a backup, or copied to a second machine, is an older
// or a parallel state of its device. The first bundle that shows it (another
// device holds more of its chain, or another version of it) is refused, sealing
// stops so that no operation can clash with one the device already made, and
// `reidentify` gives the database a new identity after which nothing is lost.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/support.h"
#include "trust/keys.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";


std::string send_all(Engine& from, const std::string& path) {
  ExportOptions all;
  all.all = true;
  from.export_bundle(path, all);
  return path;
}

// Imports `bundle` into `to`, expecting the refusal that says its identity is used elsewhere.
std::string refused_as_copy(Engine& to, const std::string& bundle) {
  const std::string rows = test::dump(to.path(), "items");
  const auto operations = test::count(to.path(), "SELECT count(*) FROM ferry_log");  // status() would seal.
  try {
    (void)to.import_bundle(bundle);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains(bundle) && Catch::Contains("Nothing was imported") &&
                             Catch::Contains("ferry reidentify " + to.path()));
    CHECK(test::dump(to.path(), "items") == rows);
    CHECK(test::count(to.path(), "SELECT count(*) FROM ferry_log") == operations);
    return e.what();
  }
  FAIL("the bundle was accepted");
  return "";
}

template <typename F>
void refuses_until_reidentified(Engine& e, F&& call) {
  try {
    call();
    FAIL("sealing was not stopped");
  } catch (const Error& err) {
    CHECK(err.code() == Errc::refused);
    CHECK_THAT(err.what(), Catch::Contains("ferry reidentify " + e.path()));
  }
}

struct Devices {
  test::TempDir dir;
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};
  Devices() {
    a.sql("INSERT INTO items VALUES(1, 'before the backup')");
    test::exchange(a, b, dir);
    test::exchange(b, a, dir);
  }
  // A backup of a, taken now; then a goes on with `later` and sends it to b.
  Engine backup_then(const std::string& later) {
    Engine backup = test::copy_device(a, dir.file("restored.db"));
    a.sql(later);
    test::exchange(a, b, dir);
    return backup;
  }
};

}  // namespace

TEST_CASE("a restored backup stops sealing at the first bundle that shows it, and a new identity loses nothing",
          "[identity]") {
  Devices d;
  auto restored = d.backup_then("INSERT INTO items VALUES(2, 'after the backup')");
  // Then a's disk dies; the backup is restored and used.
  test::exec(restored.path(), "INSERT INTO items VALUES(3, 'after the restore')");

  const std::string from_b = test::export_for(d.b.engine, d.a.engine.device_id(), d.dir.file("from-b.ferry"));
  const std::string why = refused_as_copy(restored, from_b);
  CHECK_THAT(why, Catch::Contains("holds operations of this device up to 2") &&
                      Catch::Contains("this database holds them only up to 1"));
  const StatusReport stopped = restored.status();
  CHECK_THAT(stopped.identity_reused, Catch::Contains(from_b));
  CHECK(stopped.operations == 1);  // The change made after the restore waits, captured, not sealed.
  refuses_until_reidentified(restored, [&] { test::export_for(restored, d.b.engine.device_id(), d.dir.file("no.ferry")); });
  refuses_until_reidentified(restored, [&] { (void)restored.seal(); });
  refuses_until_reidentified(restored, [&] { (void)restored.import_bundle(from_b); });
  refuses_until_reidentified(restored, [&] { (void)restored.track("items"); });
  CHECK(::access(d.dir.file("no.ferry").c_str(), F_OK) != 0);
  // What only reads goes on working.
  CHECK(restored.verify().ok);
  CHECK(restored.log().size() == 1);
  CHECK(restored.history("items", {Value::integer(1)}).size() == 1);
  CHECK(restored.conflicts().empty());
  CHECK(restored.fingerprint().operation_count == 1);
  CHECK(restored.status().identity_reused == stopped.identity_reused);  // Kept once: the first evidence says it.

  const Reidentified r = restored.reidentify();
  CHECK(r.previous == d.a.engine.device_id());
  CHECK(r.previous_head == 1);
  CHECK(r.reissued == 0);  // The change made after the restore was never sealed under the old identity.
  CHECK(r.device != r.previous);
  CHECK(r.device == restored.device_id());
  CHECK(r.evidence == stopped.identity_reused);
  CHECK(restored.status().identity_reused.empty());
  CHECK(trust::KeyPair::load(trust::key_path(restored.path()), r.device).identity() ==
        trust::parse_identity(r.public_key));
  CHECK(::access(trust::next_key_path(restored.path()).c_str(), F_OK) != 0);

  // The change made after the restore travels under the new identity; what the backup lacked comes back.
  const auto at_b = d.b.engine.import_bundle(test::export_for(restored, d.b.engine.device_id(), d.dir.file("new-to-b.ferry")));
  CHECK(at_b.applied == 1);
  CHECK(at_b.newly_trusted.size() == 1);
  const auto back = restored.import_bundle(test::export_for(d.b.engine, r.device, d.dir.file("b-to-new.ferry")));
  CHECK(back.applied == 1);
  CHECK(test::dump(restored.path(), "items") == d.b.dump("items"));
  CHECK_THAT(d.b.dump("items"), Catch::Contains("after the backup") && Catch::Contains("after the restore"));
  CHECK(restored.fingerprint().operations == d.b.engine.fingerprint().operations);
  CHECK(restored.verify().ok);
  // The old identity is now a device like any other, still trusted with its old key.
  for (const PeerInfo& p : restored.trusted())
    if (p.id == r.previous) CHECK(p.trust == Trust::added);
}

TEST_CASE("a bundle carrying this device's operations that this database never made is refused the same way",
          "[identity]") {
  Devices d;
  auto restored = d.backup_then("INSERT INTO items VALUES(2, 'after the backup'); INSERT INTO items VALUES(3, 'more')");
  const std::string why = refused_as_copy(restored, send_all(d.b.engine, d.dir.file("all-of-b.ferry")));
  CHECK_THAT(why, Catch::Contains("holds operations of this device up to 3"));
  CHECK_THAT(restored.status().identity_reused, Catch::Contains("all-of-b.ferry"));
}

TEST_CASE("the refusal names the exporter with the control characters of its name escaped", "[identity]") {
  Devices d;
  auto restored = d.backup_then("INSERT INTO items VALUES(2, 'after the backup')");
  const std::string hostile = d.dir.file("hostile.db");
  test::exec(hostile, kSchema);
  auto named = Engine::init(hostile, "clinic\x1b[2J");
  named.track("items");
  (void)named.import_bundle(send_all(d.a.engine, d.dir.file("all-of-a.ferry")));
  const std::string why = refused_as_copy(restored, send_all(named, d.dir.file("hostile.ferry")));
  CHECK_THAT(why, Catch::Contains("(clinic\\x1b[2J)"));
  CHECK(why.find('\x1b') == std::string::npos);
}

TEST_CASE("under the strict policy a stranger's claim is refused before it can stop the seal", "[identity]") {
  Devices d;
  auto restored = test::copy_device(d.a, d.dir.file("restored.db"));
  restored.set_strict(true);
  d.a.sql("INSERT INTO items VALUES(2, 'after the backup')");
  Replica stranger(d.dir, "stranger", kSchema);
  test::exchange(d.a, stranger, d.dir);  // Its clock now holds more of a's chain than the backup does.
  try {
    (void)restored.import_bundle(send_all(stranger.engine, d.dir.file("stranger.ferry")));
    FAIL("a stranger was accepted under strict");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::untrusted);
  }
  CHECK(restored.status().identity_reused.empty());
}

TEST_CASE("a second copy that went on writing is found by the hash of its own operation", "[identity]") {
  Devices d;
  Replica c(d.dir, "c", kSchema);
  test::exchange(d.a, c, d.dir);
  test::exchange(c, d.a, d.dir);
  auto copy = test::copy_device(d.a, d.dir.file("copy.db"));
  d.a.sql("INSERT INTO items VALUES(2, 'original')");
  test::exec(copy.path(), "INSERT INTO items VALUES(2, 'copy')");
  test::exchange(d.a, d.b, d.dir);
  (void)c.engine.import_bundle(test::export_for(copy, c.engine.device_id(), d.dir.file("copy-to-c.ferry")));
  // b holds the original's operation 2, the copy its own operation 2: same number, other hash.
  const std::string why = refused_as_copy(copy, send_all(d.b.engine, d.dir.file("all-of-b.ferry")));
  CHECK_THAT(why, Catch::Contains("its operation 2 of this device differs from the one this database made"));
  const Reidentified r = copy.reidentify();
  CHECK(r.previous_head == 2);
  test::exec(copy.path(), "INSERT INTO items VALUES(3, 'the copy, as itself')");
  const auto at_c = c.engine.import_bundle(test::export_for(copy, c.engine.device_id(), d.dir.file("copy-as-itself.ferry")));
  CHECK(at_c.applied == 1);
}

TEST_CASE("a copy that sealed as many changes as its backup lacked finds out from the receipt in its peer's bundle",
          "[identity]") {
  Devices d;
  auto restored = d.backup_then("INSERT INTO items VALUES(2, 'after the backup')");
  test::exec(restored.path(), "INSERT INTO items VALUES(3, 'after the restore')");
  CHECK(restored.seal() == 1);  // Operation 2 again, another one: the clocks of a and b now agree.
  const std::string from_b = test::export_for(d.b.engine, d.a.engine.device_id(), d.dir.file("from-b.ferry"));
  const BundleInfo info = inspect_bundle(from_b);
  REQUIRE(info.ranges.size() == 1);  // Nothing new for a: only the receipt, a's operation 2 as b holds it.
  CHECK(info.ranges[0].device == d.a.engine.device_id());
  CHECK(info.ranges[0].first == 2);
  const std::string why = refused_as_copy(restored, from_b);
  CHECK_THAT(why, Catch::Contains("its operation 2 of this device differs"));
  // A peer holding the same operation counts the receipt as a duplicate, and the exporter does not count it.
  ExportOptions to_a;
  to_a.peer = d.a.engine.device_id().to_string();
  const auto summary = d.b.engine.export_bundle(d.dir.file("ack.ferry"), to_a);
  CHECK(summary.operations == 0);
  CHECK(summary.receipt);
  CHECK(summary.carried == 1);  // What the file holds is said too.
  CHECK(summary.ranges.empty());
  const auto ack = d.a.engine.import_bundle(d.dir.file("ack.ferry"));
  CHECK(ack.applied == 0);
  CHECK(ack.duplicates == 1);
  CHECK(d.a.engine.status().identity_reused.empty());
}

TEST_CASE("changes a restored backup sealed and never sent are made again under its new identity, and all converge",
          "[identity]") {
  Devices d;
  auto restored = d.backup_then("INSERT INTO items VALUES(2, 'after the backup'); UPDATE items SET name='the original' "
                                "WHERE id=1");
  test::exec(restored.path(), "INSERT INTO items VALUES(3, 'after the restore'); UPDATE items SET name='the restored' "
                              "WHERE id=1");
  CHECK(restored.seal() == 2);  // Operations 2 and 3 again, other ones.
  const std::string from_b = test::export_for(d.b.engine, d.a.engine.device_id(), d.dir.file("from-b.ferry"));
  (void)refused_as_copy(restored, from_b);

  const Reidentified r = restored.reidentify();
  CHECK(r.previous_head == 1);  // Where the chain is shared: what left before the backup.
  CHECK(r.reissued == 2);
  CHECK(restored.verify().ok);
  CHECK(restored.clock().get(r.previous) == 1);
  CHECK(restored.clock().get(r.device) == 2);
  std::size_t moved = 0;
  for (const Operation& op : restored.log()) {
    if (op.origin != r.device) continue;
    ++moved;
    // Its past as it was: concurrent with what a made after the backup. The first starts the new chain and
    // carries that past; the second carries nothing new (format 2: the chain says the rest).
    CHECK(op.clock.get(r.previous) == (op.seq == 1 ? 1u : 0u));
  }
  CHECK(moved == 2);

  // The refused bundle now only waits for its past; everything flows, and the clash shows as a conflict everywhere.
  (void)restored.import_bundle(from_b);
  test::Replica& a = d.a;
  auto trade = [&](Engine& from, Engine& to, const std::string& name) {
    return to.import_bundle(test::export_for(from, to.device_id(), d.dir.file(name)));
  };
  CHECK(trade(d.b.engine, restored, "b-to-restored.ferry").applied == 2);
  CHECK(trade(restored, d.b.engine, "restored-to-b.ferry").applied == 2);
  (void)trade(d.b.engine, a.engine, "b-to-a.ferry");
  const std::string rows = d.b.dump("items");
  CHECK_THAT(rows, Catch::Contains("after the backup") && Catch::Contains("after the restore"));
  for (Engine* e : {&a.engine, &restored}) {
    CHECK(test::dump(e->path(), "items") == rows);
    CHECK(e->fingerprint().operations == d.b.engine.fingerprint().operations);
    CHECK(e->verify().ok);
    REQUIRE(e->conflicts().size() == 1);
    CHECK(e->conflicts()[0].column == "name");
  }
}

TEST_CASE("a change made again under a new identity takes the new identity's place in a tie it was part of",
          "[identity]") {
  Devices d;
  auto restored = test::copy_device(d.a, d.dir.file("restored.db"));
  // The same Lamport time on both sides: a tie, decided by device id. The new id is
  // the newest, and so the greatest, of all.
  test::exec(restored.path(), "UPDATE items SET name='the restored' WHERE id=1");
  CHECK(restored.seal() == 1);
  d.b.sql("UPDATE items SET name='b' WHERE id=1");
  (void)restored.import_bundle(test::export_for(d.b.engine, d.a.engine.device_id(), d.dir.file("from-b.ferry")));
  REQUIRE(restored.conflicts().size() == 1);
  d.a.sql("INSERT INTO items VALUES(2, 'after the backup')");
  test::exchange(d.a, d.b, d.dir);
  (void)refused_as_copy(restored, test::export_for(d.b.engine, d.a.engine.device_id(), d.dir.file("shows-it.ferry")));

  const Reidentified r = restored.reidentify();
  CHECK(r.reissued == 1);
  CHECK_THAT(test::dump(restored.path(), "items"), Catch::Contains("the restored"));
  REQUIRE(restored.conflicts().size() == 1);
  CHECK(restored.conflicts()[0].winner.origin == r.device);
  test::exchange(d.b, d.a, d.dir);
  for (int round = 0; round < 2; ++round) {
    CHECK_NOTHROW(restored.import_bundle(test::export_for(d.b.engine, r.device, d.dir.file("b-" + std::to_string(round)))));
    CHECK_NOTHROW(d.b.engine.import_bundle(test::export_for(restored, d.b.engine.device_id(), d.dir.file("r-" + std::to_string(round)))));
  }
  CHECK(d.b.dump("items") == test::dump(restored.path(), "items"));
  REQUIRE(d.b.engine.conflicts().size() == 1);
  CHECK(d.b.engine.conflicts()[0].winner.origin == r.device);
}

TEST_CASE("a change typed while sealing was stopped stays, on a row a change made again also wrote", "[identity]") {
  Devices d;
  auto restored = d.backup_then("INSERT INTO items VALUES(2, 'after the backup')");
  test::exec(restored.path(), "UPDATE items SET name='sealed after the restore' WHERE id=1");
  CHECK(restored.seal() == 1);
  d.b.sql("UPDATE items SET name='b' WHERE id=1");
  (void)refused_as_copy(restored, test::export_for(d.b.engine, d.a.engine.device_id(), d.dir.file("from-b.ferry")));
  test::exec(restored.path(), "UPDATE items SET name='typed while stopped' WHERE id=1");  // Captured, not sealed.

  const Reidentified r = restored.reidentify();
  CHECK(r.reissued == 1);
  CHECK(restored.clock().get(r.device) == 2);  // The typed change was sealed after the one made again.
  CHECK_THAT(test::dump(restored.path(), "items"), Catch::Contains("typed while stopped"));
  for (int round = 0; round < 2; ++round) {
    (void)restored.import_bundle(test::export_for(d.b.engine, r.device, d.dir.file("b-" + std::to_string(round))));
    (void)d.b.engine.import_bundle(test::export_for(restored, d.b.engine.device_id(), d.dir.file("r-" + std::to_string(round))));
  }
  CHECK(d.b.dump("items") == test::dump(restored.path(), "items"));
  CHECK_THAT(d.b.dump("items"), Catch::Contains("typed while stopped") && Catch::Contains("after the backup"));
  CHECK(restored.conflicts().size() == d.b.engine.conflicts().size());
}

TEST_CASE("a restored backup keeps under its old identity what a bundle showed other devices to hold", "[identity]") {
  Devices d;
  d.a.sql("INSERT INTO items VALUES(2, 'sealed, not yet sent')");
  (void)d.a.engine.seal();
  auto restored = d.backup_then("INSERT INTO items VALUES(3, 'after the backup')");
  // b's bundle carries a's operation 3; its past, operation 2, has the hash the backup holds.
  (void)refused_as_copy(restored, test::export_for(d.b.engine, d.a.engine.device_id(), d.dir.file("from-b.ferry")));
  const Reidentified r = restored.reidentify();
  CHECK(r.previous_head == 2);
  CHECK(r.reissued == 0);
  CHECK(restored.import_bundle(d.dir.file("from-b.ferry")).applied == 1);
  CHECK(test::dump(restored.path(), "items") == d.b.dump("items"));
}

TEST_CASE("a database from before ferry counted what it sent keeps its whole chain at reidentify", "[identity]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'maybe sent by an older ferry')");
  (void)a.engine.seal();
  test::exec(a.path, "DELETE FROM ferry_meta WHERE key='sent_seq'");
  const Reidentified r = a.engine.reidentify();
  CHECK(r.previous_head == 1);
  CHECK(r.reissued == 0);
}

TEST_CASE("reidentify finishes its key swap after a crash between its commit and the rename", "[identity]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema);
  const std::string key = trust::key_path(a.path), next = trust::next_key_path(a.path);
  const auto old_key = test::read_file(key);
  const Reidentified r = a.engine.reidentify();
  CHECK(r.evidence.empty());  // Allowed by choice too.
  // The state a crash after the commit leaves: the new key beside the old one.
  test::write_file(next, test::read_file(key));
  ::chmod(next.c_str(), 0600);
  test::write_file(key, old_key);
  ::chmod(key.c_str(), 0600);
  {
    auto reopened = Engine::open(a.path);
    CHECK(reopened.device_id() == r.device);
    a.sql("INSERT INTO items VALUES(1, 'signed with the new key')");
    Replica b(dir, "b", kSchema);
    const auto summary = b.engine.import_bundle(send_all(reopened, dir.file("a.ferry")));
    CHECK(summary.applied == 1);
  }
  CHECK(trust::KeyPair::load(key, r.device).identity() == trust::parse_identity(r.public_key));
  CHECK(::access(next.c_str(), F_OK) != 0);

  SECTION("a stray next key of another device does not hide a missing key") {
    ::unlink(key.c_str());
    test::write_file(next, old_key);
    ::chmod(next.c_str(), 0600);
    auto reopened = Engine::open(a.path);
    try {
      send_all(reopened, dir.file("b.ferry"));
      FAIL("exported without a key");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::not_found);
      CHECK_THAT(e.what(), Catch::Contains(key + ": the private key of this device is missing"));
    }
    SECTION("and a new identity is the way out of a lost key, taking along what was sealed and never sent") {
      a.sql("INSERT INTO items VALUES(2, 'sealed, never signed')");
      (void)reopened.seal();
      const Reidentified again = reopened.reidentify();
      CHECK(again.previous == r.device);
      CHECK(again.previous_head == 1);
      CHECK(again.reissued == 1);
      CHECK(send_all(reopened, dir.file("c.ferry")) == dir.file("c.ferry"));
    }
  }
}
