// What a device's next operation follows is found from the heads that moved
// since its previous one (ferry_moved, replica/devices.h), not from a seek
// per device known: the answer must be the same as that seek's, across
// engines, processes and the upgrade from local format 4.
#include <catch2/catch.hpp>

#include "ferry/engine.h"
#include "replica/schema.h"
#include "support/support.h"

using namespace ferry;

namespace {

const char* const kSchema = "CREATE TABLE t(id INTEGER PRIMARY KEY, v)";

// The deps of `device`'s newest operation.
VectorClock newest_deps(Engine& e) {
  for (const Operation& op : e.log())  // Newest first.
    if (op.origin == e.device_id()) return op.clock;
  FAIL("no operation of its own");
  return {};
}

struct Fleet {
  test::TempDir dir;
  test::Replica hub{dir, "hub", kSchema};
  std::vector<std::unique_ptr<test::Replica>> devices;
  int next_id = 1;

  Fleet() {
    for (int i = 0; i < 6; ++i) {
      devices.push_back(std::make_unique<test::Replica>(dir, "d" + std::to_string(i), kSchema));
      write(*devices.back());
      (void)test::exchange(*devices.back(), hub, dir);
    }
  }
  void write(test::Replica& r) { r.sql("INSERT INTO t VALUES(" + std::to_string(next_id++) + ", '" + r.name + "')"); }
  // `r` writes a row, and a separate engine on the hub's file (as another process would) imports it.
  void moved(test::Replica& r) {
    write(r);
    const std::string file = dir.file("from-" + r.name + "-" + std::to_string(next_id) + ".ferry");
    test::export_all(r, file);
    (void)Engine::open(hub.path).import_bundle(file);
  }
};

}  // namespace

TEST_CASE("a device's next operation follows exactly the chains that moved since its previous one", "[capture][deps]") {
  Fleet f;
  f.write(f.hub);  // The chain's first operation follows every head.
  CHECK(newest_deps(f.hub.engine).entries().size() == f.devices.size());

  f.moved(*f.devices[3]);
  f.write(f.hub);
  CHECK(newest_deps(f.hub.engine).entries() ==
        std::vector<VectorClock::Entry>{{f.devices[3]->engine.device_id(), 2}});

  f.write(f.hub);  // Nothing moved.
  CHECK(newest_deps(f.hub.engine).empty());

  f.moved(*f.devices[1]);
  f.moved(*f.devices[5]);
  f.moved(*f.devices[1]);
  f.write(f.hub);
  const VectorClock expected(
      {{f.devices[1]->engine.device_id(), 3}, {f.devices[5]->engine.device_id(), 2}});
  CHECK(newest_deps(f.hub.engine) == expected);
  CHECK(test::count(f.hub.path, "SELECT count(*) FROM ferry_moved") == 0);  // Followed: nothing left.
  CHECK(f.hub.engine.verify().ok);
}

TEST_CASE("a database of local format 4 counts every device as moved, and its next operation follows what did",
          "[capture][deps][upgrade]") {
  Fleet f;
  f.write(f.hub);
  f.moved(*f.devices[2]);
  // As ferry left it before ferry_moved was kept.
  test::exec(f.hub.path, "DROP TABLE ferry_moved; DROP INDEX ferry_devices_list; UPDATE ferry_meta SET value = 4 WHERE key = 'format'");
  {
    auto opened = Engine::open(f.hub.path);
    CHECK(opened.upgraded_from() == 4);
  }
  CHECK(test::count(f.hub.path, "SELECT value FROM ferry_meta WHERE key = 'format'") == replica::kLocalSchemaVersion);
  CHECK(test::count(f.hub.path, "SELECT count(*) FROM ferry_moved") ==
        test::count(f.hub.path, "SELECT count(*) FROM ferry_devices"));
  auto hub = Engine::open(f.hub.path);
  f.hub.sql("UPDATE t SET v = 'again' WHERE id = 1");
  (void)hub.seal();
  CHECK(newest_deps(hub).entries() == std::vector<VectorClock::Entry>{{f.devices[2]->engine.device_id(), 2}});
  CHECK(hub.verify().ok);
}
