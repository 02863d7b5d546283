// The device list every export and import loads (replica/devices.h): read in
// id order from the index that covers it (local format 7), yet handed out in
// number order, each device found by id, by number and by name; a chain's
// hashes read from its row when first asked for; a chain of a scope named by
// its device and scope (local format 9).
#include <catch2/catch.hpp>

#include "ferry/engine.h"
#include "log/codec.h"
#include "log/stored_chains.h"
#include "replica/devices.h"
#include "replica/schema.h"
#include "support/support.h"
#include "util/uuid.h"

using namespace ferry;

namespace {

const char* const kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY)";

// Devices registered in the reverse of their id order, as a hub hears from
// devices made long before it met them: numbers ascend as ids descend.
std::vector<DeviceId> register_backwards(sql::Database& db, int n) {
  std::vector<DeviceId> ids;
  auto insert = db.prepare("INSERT INTO ferry_devices(id, name, head_seq, head_hash) VALUES(?, ?, ?, ?)");
  for (int i = n; i > 0; --i) {
    ids.push_back(test::counting_id(static_cast<std::uint8_t>(i * 3)));
    const Hash head{static_cast<std::uint8_t>(i)};
    insert.bind_blob(1, ids.back().bytes.data(), 16)
        .bind(2, std::string_view("d" + std::to_string(i)))
        .bind(3, static_cast<std::int64_t>(i))
        .bind_blob(4, head.data(), 32);
    insert.run();
  }
  return ids;
}

// A hub that knows `n` devices besides itself (register_backwards).
struct Hub {
  test::TempDir dir;
  test::Replica r{dir, "hub", kSchema};
  sql::Database db = test::app(r.path);
  std::vector<DeviceId> ids;
  explicit Hub(int n) : ids(register_backwards(db, n)) {}
};

}  // namespace

TEST_CASE("the device list comes in number order, and each device is found by id, number and name", "[replica]") {
  Hub h(40);
  sql::Database& db = h.db;
  const std::vector<DeviceId>& ids = h.ids;

  replica::Devices devices(db);
  REQUIRE(devices.all().size() == 41);  // The hub itself, then the forty.
  for (std::size_t i = 1; i < devices.all().size(); ++i) CHECK(devices.all()[i - 1].no < devices.all()[i].no);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const int i = 40 - static_cast<int>(k);
    const replica::Device* d = devices.find(ids[k]);
    REQUIRE(d != nullptr);
    CHECK(d->head_seq == static_cast<std::uint64_t>(i));
    CHECK(devices.head_hash(*d)[0] == i);
    CHECK(&devices.by_no(d->no) == d);
    CHECK(&devices.lookup("d" + std::to_string(i)) == d);
  }
  CHECK(devices.find(test::counting_id(200)) == nullptr);
  // Asked in id order, one walk finds each; out of order or unknown, still right.
  std::size_t cursor = 0;
  for (auto k = ids.rbegin(); k != ids.rend(); ++k) CHECK(devices.find_ascending(*k, cursor) == devices.find(*k));
  CHECK(devices.find_ascending(ids.back(), cursor) == devices.find(ids.back()));
  CHECK(devices.find_ascending(test::counting_id(200), cursor) == nullptr);
  // The whole clock walks the devices in id order; the hub has written nothing.
  const VectorClock clock = devices.clock();
  CHECK(clock.entries().size() == 40);
  for (std::size_t k = 0; k < ids.size(); ++k) CHECK(clock.get(ids[k]) == 40 - k);
}

TEST_CASE("devices are read as they are asked for, the whole list only when every device is, and one read before "
          "keeps its slot and its moves", "[replica]") {
  Hub h(40);
  sql::Database& db = h.db;
  const std::vector<DeviceId>& ids = h.ids;
  sql::Transaction tx(db);
  replica::Devices devices(db);
  CHECK(devices.read_count() == 0);
  replica::Device* d5 = devices.find(ids[5]);
  REQUIRE(d5 != nullptr);
  CHECK(d5->head_seq == 35);
  CHECK(devices.find_no(d5->no) == d5);
  const std::int64_t no_of_d33 = test::count(h.r.path, "SELECT no FROM ferry_devices WHERE name = 'd33'");
  const replica::Device* d33 = devices.find_no(no_of_d33);
  REQUIRE(d33 != nullptr);
  CHECK(d33->id == ids[7]);
  CHECK(devices.find(test::counting_id(200)) == nullptr);
  CHECK(devices.find_no(1000) == nullptr);
  CHECK(devices.read_count() == 2);
  devices.move_head(*d5, 99, Hash{9});
  REQUIRE(devices.all().size() == 41);  // Now every row: the hub and the forty.
  CHECK(devices.read_count() == 41);
  CHECK(devices.find(ids[5]) == d5);
  CHECK(d5->head_seq == 99);
  CHECK(devices.head_hash(*d5) == Hash{9});
  CHECK(devices.find_no(no_of_d33) == d33);
  for (std::size_t i = 1; i < devices.all().size(); ++i) CHECK(devices.all()[i - 1].no < devices.all()[i].no);
  CHECK(devices.clock().get(ids[5]) == 99);
  CHECK(devices.find(test::counting_id(200)) == nullptr);
  CHECK(devices.read_count() == 41);
}

TEST_CASE("past 256 devices asked for one by one, the whole list is read at once", "[replica]") {
  test::TempDir dir;
  test::Replica r{dir, "hub", kSchema};
  sql::Database db = test::app(r.path);
  std::vector<DeviceId> ids;
  auto insert = db.prepare("INSERT INTO ferry_devices(id, head_seq) VALUES(?, 1)");
  for (int i = 0; i < 300; ++i) {
    ids.push_back(util::make_uuid_v7(1'790'000'000'000 + i));
    insert.bind_blob(1, ids.back().bytes.data(), 16);
    insert.run();
  }
  replica::Devices devices(db);
  for (std::size_t k = 0; k < 256; ++k) REQUIRE(devices.find(ids[k]) != nullptr);
  CHECK(devices.read_count() == 256);
  const replica::Device* first = devices.find(ids[0]);
  REQUIRE(devices.find(ids[256]) != nullptr);
  CHECK(devices.read_count() == 301);  // The hub and the three hundred, each once.
  CHECK(devices.find(ids[0]) == first);
  CHECK(devices.find(ids[299])->head_seq == 1);
}

TEST_CASE("a chain's hashes are read from its row when first asked for, and a move in memory is what is seen after",
          "[replica]") {
  Hub h(3);
  sql::Database& db = h.db;
  const std::vector<DeviceId>& ids = h.ids;
  sql::Transaction tx(db);
  replica::Devices devices(db);
  replica::Device& d = *devices.find(ids[0]);  // d3: head 3, hash {3}.
  CHECK(devices.head_hash(d) == Hash{3});
  CHECK(devices.base_hash(d) == Hash{});
  devices.move_head(d, 4, Hash{4});
  CHECK(devices.head_hash(d) == Hash{4});
  devices.set_base(*devices.find(ids[1]), 7, Hash{7});
  CHECK(devices.base_hash(*devices.find(ids[1])) == Hash{7});
  CHECK(devices.head_hash(*devices.find(ids[1])) == Hash{7});
  devices.save();
  tx.commit();
  replica::Devices again(db);
  CHECK(again.head_hash(*again.find(ids[0])) == Hash{4});
  CHECK(again.base_hash(*again.find(ids[1])) == Hash{7});
}

TEST_CASE("a head moved on another connection after the list was read is refused, not paired with the old head's seq",
          "[replica]") {
  Hub h(2);
  sql::Database& db = h.db;
  const std::vector<DeviceId>& ids = h.ids;
  replica::Devices devices(db);  // Outside a transaction, as `ferry fingerprint` reads.
  REQUIRE(devices.all().size() == 3);
  test::exec(h.r.path, "UPDATE ferry_devices SET head_seq = 9 WHERE name = 'd2'");
  CHECK_THROWS_WITH(devices.head_hash(*devices.find(ids[0])),
                    Catch::Contains("changed on another connection while ferry read it; run the command again"));
  CHECK(devices.head_hash(*devices.find(ids[1])) == Hash{1});  // Unchanged: read as it was.
}

TEST_CASE("a database of local format 5 or 6 gets the index its device list is read from, and nothing else changes",
          "[replica][upgrade]") {
  const int from = GENERATE(5, 6);
  test::TempDir dir;
  test::Replica hub{dir, "hub", kSchema};
  test::Replica other{dir, "other", kSchema};
  other.sql("INSERT INTO items VALUES(1)");
  (void)test::exchange(other, hub, dir);
  const std::string before = test::dump(hub.path, "ferry_devices");
  const std::size_t peers = hub.engine.peers().size();
  // As ferry left it: format 5 had no index, 6 one holding the hashes too.
  test::exec(hub.path, "DROP INDEX ferry_devices_list; UPDATE ferry_meta SET value = " + std::to_string(from) +
                           " WHERE key = 'format'");
  if (from == 6)
    test::exec(hub.path, "CREATE INDEX ferry_devices_heads ON ferry_devices(id, head_seq, head_hash, base_seq, "
                         "base_hash, name)");
  {
    auto opened = Engine::open(hub.path);
    CHECK(opened.upgraded_from() == from);
  }
  CHECK(test::count(hub.path, "SELECT value FROM ferry_meta WHERE key = 'format'") == replica::kLocalSchemaVersion);
  CHECK(test::count(hub.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'ferry_devices_list'") == 1);
  CHECK(test::count(hub.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'ferry_devices_heads'") == 0);
  CHECK(test::dump(hub.path, "ferry_devices") == before);
  {  // Read from the index alone.
    sql::Database db = test::app(hub.path);
    auto plan = db.prepare("EXPLAIN QUERY PLAN SELECT no, id, name, head_seq, base_seq FROM ferry_devices ORDER BY id");
    REQUIRE(plan.step());
    CHECK_THAT(plan.text(3), Catch::Contains("COVERING INDEX ferry_devices_list"));
  }
  auto opened = Engine::open(hub.path);
  CHECK(opened.verify().ok);
  CHECK(opened.peers().size() == peers);
}

TEST_CASE("a chain of a scope is numbered as a device is, and remembers whose it is and of which scope",
          "[replica][scope]") {
  Hub h(3);
  const DeviceId clinic_device = h.ids[0];
  DeviceId chain;
  std::int64_t chain_no = 0;
  {
    replica::Devices devices(h.db);
    log::StoredChains chains(devices);
    const replica::Device& c7 = chains.ensure(clinic_device, "clinic-7");
    chain = c7.id;
    chain_no = c7.no;
    CHECK(chain == log::chain_id(clinic_device, "clinic-7"));
    CHECK(c7.scoped());
    CHECK(&chains.ensure(clinic_device, "clinic-7") == &c7);  // Once.
    CHECK(chains.name(chain).device == clinic_device);
    CHECK(chains.name(clinic_device).scope.empty());  // A device's own chain is the shared one.
    CHECK_THROWS_WITH(chains.ensure(chain, ""), Catch::Contains("version 8"));  // No device poses as a chain.
    CHECK_THROWS_WITH(chains.ensure(clinic_device, "*all"), Catch::Contains("reserved"));
    CHECK_THROWS_WITH(chains.name(log::chain_id(clinic_device, "clinic-8")), Catch::Contains("not held here"));
  }
  {  // Read back from the database, by a device list that has not met the chain.
    replica::Devices devices(h.db);
    log::StoredChains chains(devices);
    CHECK(chains.name(chain).device == clinic_device);
    CHECK(chains.name(chain).scope == "clinic-7");
    // What an operation of the chain encodes to names the device and the scope.
    Operation op;
    op.format = 2;
    op.origin = chain;
    op.scope = "clinic-7";
    op.seq = op.lamport = 1;
    op.id = util::make_operation_id(1764806400000, op.origin, op.seq);
    op.table = "items";
    op.key = {Value::integer(1)};
    const std::string body = log::encode(op, &chains);
    CHECK(body.find("clinic-7") != std::string::npos);
    CHECK(body.find(std::string(reinterpret_cast<const char*>(clinic_device.bytes.data()), 16)) != std::string::npos);
    CHECK(log::decode(body, "test", log::kNewestOperationFormat) == op);
  }
  // A row that says otherwise than the id is damage, named.
  test::exec(h.r.path, "UPDATE ferry_chain_names SET scope = 'clinic-8' WHERE chain = " + std::to_string(chain_no));
  replica::Devices devices(h.db);
  log::StoredChains chains(devices);
  CHECK_THROWS_WITH(chains.ensure(clinic_device, "clinic-7"), Catch::Contains("otherwise than its id says"));
  test::exec(h.r.path, "DELETE FROM ferry_chain_names");
  replica::Devices again(h.db);
  CHECK_THROWS_WITH(log::StoredChains(again).name(chain), Catch::Contains("does not say whose chain"));
}

TEST_CASE("a database of local format 8 gets the table naming chains of a scope and every table shared, and nothing "
          "else changes",
          "[replica][upgrade]") {
  test::TempDir dir;
  test::Replica hub{dir, "hub", kSchema};
  test::Replica other{dir, "other", kSchema};
  other.sql("INSERT INTO items VALUES(1)");
  (void)test::exchange(other, hub, dir);
  const std::string before = test::dump(hub.path, "ferry_devices");
  test::exec(hub.path, "DROP TABLE ferry_chain_names; ALTER TABLE ferry_tables DROP COLUMN scope;"
                       "UPDATE ferry_meta SET value = 8 WHERE key = 'format'");
  {
    auto opened = Engine::open(hub.path);
    CHECK(opened.upgraded_from() == 8);
    CHECK(opened.verify().ok);
  }
  CHECK(test::count(hub.path, "SELECT value FROM ferry_meta WHERE key = 'format'") == replica::kLocalSchemaVersion);
  CHECK(test::count(hub.path, "SELECT count(*) FROM ferry_chain_names") == 0);
  CHECK(test::count(hub.path, "SELECT count(*) FROM ferry_tables WHERE scope = ''") == 1);  // Shared, as it was.
  CHECK(test::dump(hub.path, "ferry_devices") == before);
}
