// What a hub keeps of its peers' clocks (log/peer_clocks.h): every clock comes
// back exactly, and peers whose clocks are nearly the same share one base, so
// the hub keeps O(D) per peer at most and far less when the fleet is in step
// (bundle_format/format4.md §10).
#include <catch2/catch.hpp>

#include "ferry/engine.h"
#include "log/codec.h"
#include "log/fields.h"
#include "log/peer_clocks.h"
#include "support/support.h"
#include "util/uuid.h"

using namespace ferry;

namespace {

struct Hub {
  test::TempDir dir;
  test::Replica hub{dir, "hub", "CREATE TABLE items(id INTEGER PRIMARY KEY)"};
  sql::Database db = test::app(hub.path);
  std::vector<DeviceId> devices;  // Each with a row in ferry_devices.
  std::vector<std::int64_t> numbers;

  explicit Hub(int n) {
    auto insert = db.prepare("INSERT INTO ferry_devices(id) VALUES(?)");
    for (int i = 0; i < n; ++i) {
      devices.push_back(util::make_uuid_v7(1'790'000'000'000 + i));
      insert.bind_blob(1, devices.back().bytes.data(), 16);
      insert.run();
      numbers.push_back(db.last_insert_rowid());
    }
  }

  // Every device at seq 10, but `bumped` of them one further.
  VectorClock in_step(int bumped, int offset = 0) const {
    VectorClock c;
    for (std::size_t i = 0; i < devices.size(); ++i)
      c.set(devices[i], 10 + (static_cast<int>(i) >= offset && static_cast<int>(i) < offset + bumped ? 1 : 0));
    return c;
  }

  void keep(std::size_t peer, const VectorClock& c) {
    log::store_clock(db, replica::Devices(db), "announced_clock", "announced_ms", numbers[peer], c);
  }
  VectorClock kept(std::size_t peer) { return log::stored_clock(db, replica::Devices(db), "announced_clock", numbers[peer]); }
  std::int64_t bases() { return test::count(hub.path, "SELECT count(*) FROM ferry_peer_bases"); }
  std::int64_t kept_bytes() {
    return test::count(hub.path, "SELECT sum(length(announced_clock)) FROM ferry_devices WHERE announced_clock IS NOT NULL");
  }
};

}  // namespace

TEST_CASE("peers whose clocks are nearly the same share one base, and each clock comes back exactly", "[peer_clocks]") {
  Hub h(300);
  for (std::size_t p = 0; p < 100; ++p) h.keep(p, h.in_step(static_cast<int>(p % 3), static_cast<int>(p)));
  for (std::size_t p = 0; p < 100; ++p) CHECK(h.kept(p) == h.in_step(static_cast<int>(p % 3), static_cast<int>(p)));
  CHECK(h.bases() == 1);
  // 100 peers, 300 entries each: a few bytes per peer beside one shared base.
  CHECK(h.kept_bytes() < 100 * 16);
}

TEST_CASE("a clock far from every base starts its own, and a base nobody refers to is deleted", "[peer_clocks]") {
  Hub h(300);
  h.keep(0, h.in_step(0));
  h.keep(1, h.in_step(2));
  CHECK(h.bases() == 1);
  VectorClock behind;  // Knows half the fleet: 150 entries from every base.
  for (std::size_t i = 0; i < 150; ++i) behind.set(h.devices[i], 3);
  h.keep(1, behind);
  CHECK(h.bases() == 2);
  CHECK(h.kept(1) == behind);
  CHECK(h.kept(0) == h.in_step(0));
  h.keep(1, h.in_step(1));  // Caught up: its own base is no longer needed.
  CHECK(h.bases() == 1);
  CHECK(h.kept(1) == h.in_step(1));
}

TEST_CASE("a base names every device by id, so reading a kept clock reads only the devices of its delta",
          "[peer_clocks]") {
  Hub h(300);
  h.keep(0, h.in_step(1));
  REQUIRE(h.bases() == 1);
  auto st = h.db.prepare("SELECT clock FROM ferry_peer_bases");
  REQUIRE(st.step());
  const std::string base(st.blob_view(0));
  for (const DeviceId& d : h.devices) CHECK(base.find(std::string(d.bytes.begin(), d.bytes.end())) != std::string::npos);
  h.keep(1, h.in_step(1, 7));  // The same base, device 7 one further instead of device 0.
  REQUIRE(h.bases() == 1);
  replica::Devices devices(h.db);
  CHECK(log::stored_clock(h.db, devices, "announced_clock", h.numbers[1]) == h.in_step(1, 7));
  CHECK(devices.read_count() == 2);  // The delta's two: device 0 back to 10, device 7 on to 11.
}

TEST_CASE("a base that named devices by number (local format 6) names them by id after the upgrade, every clock "
          "unchanged", "[peer_clocks][upgrade]") {
  Hub h(100);
  for (std::size_t p = 0; p < 5; ++p) h.keep(p, h.in_step(static_cast<int>(p), static_cast<int>(p)));
  REQUIRE(h.bases() == 1);
  log::Encoder by_number;  // The whole base clock, as local format 6 kept it.
  by_number.array(h.devices.size());
  for (std::size_t i = 0; i < h.devices.size(); ++i) {
    by_number.array(2);
    by_number.uint(static_cast<std::uint64_t>(h.numbers[i]));
    by_number.uint(10);
  }
  const std::string old = by_number.take();
  auto set = h.db.prepare("UPDATE ferry_peer_bases SET clock = ?");
  set.bind_blob(1, old.data(), old.size());
  set.run();
  for (std::size_t p = 0; p < 5; ++p) REQUIRE(h.kept(p) == h.in_step(static_cast<int>(p), static_cast<int>(p)));
  test::exec(h.hub.path, "DROP INDEX ferry_devices_list; UPDATE ferry_meta SET value = 6 WHERE key = 'format'");
  CHECK(Engine::open(h.hub.path).upgraded_from() == 6);
  auto st = h.db.prepare("SELECT clock FROM ferry_peer_bases");
  REQUIRE(st.step());
  CHECK(st.blob_view(0).size() > h.devices.size() * 18);  // Each entry a 16-byte id.
  for (std::size_t p = 0; p < 5; ++p) CHECK(h.kept(p) == h.in_step(static_cast<int>(p), static_cast<int>(p)));
}

TEST_CASE("a device this database has no row for is kept by its id", "[peer_clocks]") {
  Hub h(3);
  VectorClock c = h.in_step(0);
  const DeviceId stranger = util::make_uuid_v7(1'800'000'000'000);
  c.set(stranger, 7);
  h.keep(0, c);
  CHECK(h.kept(0) == c);
}

TEST_CASE("a clock kept in the older form, devices by id, is read as it is", "[peer_clocks]") {
  Hub h(5);
  const VectorClock c = h.in_step(2);
  const std::string old = log::encode_clock(c);
  auto st = h.db.prepare("UPDATE ferry_devices SET announced_clock = ? WHERE no = ?");
  st.bind_blob(1, old.data(), old.size()).bind(2, h.numbers[0]);
  st.run();
  CHECK(h.kept(0) == c);
  CHECK(log::all_peer_clocks(h.db, replica::Devices(h.db)).size() == 6);  // The hub itself and five peers.
}

TEST_CASE("a forgotten device leaves every kept clock, its base included", "[peer_clocks]") {
  Hub h(100);
  for (std::size_t p = 0; p < 10; ++p) h.keep(p, h.in_step(static_cast<int>(p % 2), static_cast<int>(p)));
  const DeviceId gone = h.devices[42];
  log::forget_in_stored_clocks(h.db, replica::Devices(h.db), gone);
  for (std::size_t p = 0; p < 10; ++p) {
    const VectorClock was = h.in_step(static_cast<int>(p % 2), static_cast<int>(p));
    VectorClock expected;
    for (const auto& [device, seq] : was.entries())
      if (device != gone) expected.set(device, seq);
    CHECK(h.kept(p) == expected);
  }
}

TEST_CASE("a damaged kept clock or base is refused by name, never read past its bytes", "[peer_clocks]") {
  Hub h(300);
  h.keep(0, h.in_step(1));
  h.keep(1, h.in_step(2));
  REQUIRE(h.bases() == 1);
  auto blob_of = [&](const std::string& sql) {
    auto st = h.db.prepare(sql);
    REQUIRE(st.step());
    return std::string(st.blob_view(0));
  };
  const std::string base = blob_of("SELECT clock FROM ferry_peer_bases");
  const std::string kept = blob_of("SELECT announced_clock FROM ferry_devices WHERE no = " + std::to_string(h.numbers[0]));
  auto set = [&](const std::string& sql, const std::string& bytes) {
    auto st = h.db.prepare(sql);
    st.bind_blob(1, bytes.data(), bytes.size());
    st.run();
  };
  auto refused = [&](const char* field) {
    try {
      (void)h.kept(0);
      FAIL("a damaged kept clock was read");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::corrupt);
      CHECK_THAT(e.what(), Catch::Contains(field));
    }
  };
  SECTION("a base cut short") {
    set("UPDATE ferry_peer_bases SET clock = ?", base.substr(0, base.size() - 3));
    refused("kept clock");
  }
  SECTION("a base with bytes after it") {
    set("UPDATE ferry_peer_bases SET clock = ?", base + '\x01');
    refused("unexpected bytes after the kept clock");
  }
  SECTION("a base whose array claims more entries than its bytes hold") {
    set("UPDATE ferry_peer_bases SET clock = ?", std::string("\xdd\x7f\xff\xff\xff\x92\x01\x01", 8));
    refused("an array the bytes left can hold");
  }
  // A kept value is [base, entries]; its base, a small number, is its second byte.
  REQUIRE(kept.size() > 2);
  REQUIRE(static_cast<unsigned char>(kept[1]) < 0x80);
  const std::string on_base = kept.substr(0, 2);
  const std::string update_kept = "UPDATE ferry_devices SET announced_clock = ? WHERE no = " + std::to_string(h.numbers[0]);
  SECTION("a delta naming a device number this database does not have") {
    set(update_kept, on_base + std::string("\x91\x92\xce\x00\x10\x00\x00\x05", 8));
    refused("a device this database numbers");
  }
  SECTION("an entry that is not a pair") {
    set(update_kept, on_base + std::string("\x91\x93\x01\x05\x05", 5));
    refused("a [device, seq] pair");
  }
  SECTION("a seq that is not an unsigned integer") {
    set(update_kept, on_base + std::string("\x91\x92\x01\xa1x", 5));
    refused("kept clock seq");
  }
}
