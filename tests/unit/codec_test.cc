// The canonical encoding: one operation, one byte string, on every machine;
// and a decoder that refuses anything else without trusting sizes it reads.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "ferry/error.h"
#include "support/support.h"
#include "bundle/format.h"
#include "log/chain.h"
#include "log/codec.h"
#include "log/fields.h"
#include "util/uuid.h"

using namespace ferry;

namespace {

std::string hex(std::string_view bytes) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += k[c >> 4];
    out += k[c & 15];
  }
  return out;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

OperationId op_id(std::uint8_t last) {
  OperationId id;
  id.bytes[1] = 0x8f;
  id.bytes[0] = 0x01;
  id.bytes[6] = 0x70;
  id.bytes[15] = last;
  return id;
}

// The same operations as tools/golden_vectors.py.
std::map<std::string, Operation> golden_operations() {
  std::map<std::string, Operation> ops;
  const DeviceId a = test::counting_id(0), b = test::counting_id(16);
  Operation ins;
  ins.id = op_id(0);
  ins.origin = a;
  ins.seq = 1;
  ins.lamport = 1;
  ins.clock.set(a, 1);
  ins.table = "items";
  ins.key = {Value::integer(1)};
  ins.kind = OpKind::insert;
  ins.columns = {{"name", Value::text("bolt")}, {"note", Value()}, {"price", Value::real(0.1)},
                 {"qty", Value::integer(-5)}, {"raw", Value::blob({0x00, 0xff})}};
  ops["insert"] = ins;
  Operation upd;
  upd.id = op_id(1);
  upd.origin = a;
  upd.seq = 2;
  upd.lamport = 7;
  upd.clock.set(a, 2);
  upd.clock.set(b, 300);
  upd.table = "items";
  upd.key = {Value::integer(1)};
  upd.kind = OpKind::update;
  upd.columns = {{"price", Value::real(-0.0)}, {"qty", Value::integer(std::int64_t{1} << 40)}};
  upd.prev_hash.fill(0xab);
  ops["update"] = upd;
  Operation del;
  del.id = op_id(2);
  del.origin = b;
  del.seq = 70000;
  del.lamport = 70001;
  del.clock.set(b, 70000);
  del.table = "notes \"x\"";
  del.key = {Value::text("k\xc3\xa9"), Value::blob({})};
  del.kind = OpKind::remove;
  del.prev_hash.fill(0x01);
  ops["delete"] = del;

  // Format 2 (bundle_format/format4.md §3): no id carried, deps instead of the whole clock.
  const DeviceId c = test::counting_id(32);
  auto format2 = [](Operation op, std::int64_t time_ms) {
    op.format = 2;
    op.id = util::make_operation_id(time_ms, op.origin, op.seq);
    return op;
  };
  Operation ins2 = ins;
  ins2.clock = VectorClock();
  ops["insert2"] = format2(ins2, 1764806400000);
  Operation upd2 = upd;
  upd2.lamport = 301;
  upd2.clock = VectorClock();
  upd2.clock.set(c, 7);
  upd2.clock.set(b, 300);
  ops["update2"] = format2(upd2, 1764806400123);
  Operation del2 = del;
  del2.seq = std::uint64_t{1} << 62;
  del2.lamport = static_cast<std::uint64_t>(INT64_MAX);
  del2.clock = VectorClock();
  del2.clock.set(a, std::uint64_t{1} << 32);
  ops["delete2"] = format2(del2, (std::int64_t{1} << 48) - 1);

  // Scope "clinic-7" (format4.md §12.1): the origin and each deps entry by chain id.
  Operation scoped = upd2;
  scoped.origin = log::chain_id(a, "clinic-7");
  scoped.scope = "clinic-7";
  scoped.clock = VectorClock();
  scoped.clock.set(c, 7);
  scoped.clock.set(log::chain_id(b, "clinic-7"), 300);
  scoped.clock.set(a, 5);  // The origin's device, in the shared scope: another chain.
  ops["update2s"] = format2(scoped, 1764806400123);
  return ops;
}

// The lines of a golden file of tests/golden, without its comments.
std::vector<std::string> golden_lines(const std::string& file) {
  std::ifstream in(std::string(FERRY_GOLDEN_DIR) + "/" + file);
  REQUIRE(in);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

DeviceId device_from_hex(const std::string& h) {
  DeviceId device;
  const std::string raw = unhex(h);
  REQUIRE(raw.size() == 16);
  std::memcpy(device.bytes.data(), raw.data(), 16);
  return device;
}

// The names the golden operations' scoped chains have.
log::KnownChains golden_names() {
  log::KnownChains names;
  names.add(test::counting_id(0), "clinic-7");
  names.add(test::counting_id(16), "clinic-7");
  return names;
}

}  // namespace

TEST_CASE("operations encode to the golden bytes and hashes of an independent encoder", "[log][encoding]") {
  auto ops = golden_operations();
  const auto names = golden_names();
  int checked = 0;
  for (const std::string& line : golden_lines("operations.txt")) {
    std::istringstream fields(line);
    std::string name, bytes_hex, hash_hex;
    fields >> name >> bytes_hex >> hash_hex;
    INFO(name);
    REQUIRE(ops.count(name));
    const std::string encoded = log::encode(ops[name], &names);
    CHECK(hex(encoded) == bytes_hex);
    CHECK(to_hex(log::hash_of(encoded)) == hash_hex);
    CHECK(log::decode(unhex(bytes_hex), "golden", log::kNewestOperationFormat) == ops[name]);
    ++checked;
  }
  CHECK(checked == 7);
}

TEST_CASE("a chain of a scope has an id of its own, derived as the independent encoder derives it", "[log][encoding]") {
  int checked = 0;
  for (const std::string& line : golden_lines("chains.txt")) {
    std::istringstream fields(line);
    std::string device_hex, scope_hex, id_hex;
    fields >> device_hex >> scope_hex >> id_hex;
    INFO(line);
    const DeviceId device = device_from_hex(device_hex);
    const std::string scope = scope_hex == "-" ? "" : unhex(scope_hex);
    const DeviceId id = log::chain_id(device, scope);
    CHECK(hex(std::string(reinterpret_cast<const char*>(id.bytes.data()), 16)) == id_hex);
    CHECK(log::is_scoped_chain(id) == !scope.empty());  // A shared chain keeps its device's id.
    log::KnownChains known;
    if (!scope.empty()) CHECK_THROWS_WITH(known.name(id), Catch::Contains("no known device and scope"));
    CHECK(known.add(device, scope) == id);
    CHECK(known.name(id).device == device);
    CHECK(known.name(id).scope == scope);
    ++checked;
  }
  CHECK(checked == 5);
}

TEST_CASE("a chain's head is signed as the independent encoder writes it: v1 in the shared scope, v2 naming another",
          "[log][encoding]") {
  int checked = 0;
  for (const std::string& line : golden_lines("heads.txt")) {
    std::istringstream fields(line);
    std::string device_hex, scope_hex, hash_hex, message_hex;
    std::uint64_t seq = 0;
    fields >> device_hex >> scope_hex >> seq >> hash_hex >> message_hex;
    INFO(line);
    const DeviceId device = device_from_hex(device_hex);
    Hash hash;
    std::memcpy(hash.data(), unhex(hash_hex).data(), 32);
    const std::string scope = scope_hex == "-" ? "" : unhex(scope_hex);
    CHECK(hex(bundle::head_message(device, scope, seq, hash)) == message_hex);
    ++checked;
  }
  CHECK(checked == 5);
}

TEST_CASE("REAL values survive encoding bit for bit", "[log][encoding]") {
  const double value = GENERATE(-0.0, 0.0, 1.0, 0.1, 1e308, 5e-324, -1e-300, std::numeric_limits<double>::infinity(),
                                9007199254740992.0);
  Operation op = golden_operations()["insert"];
  op.columns = {{"x", Value::real(value)}};
  const Operation back = log::decode(log::encode(op), "test");
  const double decoded = back.columns[0].value.as_real();
  CHECK(std::memcmp(&decoded, &value, sizeof value) == 0);
}

TEST_CASE("the decoder refuses what is not exactly a canonical operation", "[log][encoding]") {
  const std::string good = log::encode(golden_operations()["insert"]);
  auto refused = [](const std::string& bytes) {
    try {
      (void)log::decode(bytes, "op");
      return std::string("accepted");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  SECTION("trailing bytes") { CHECK_THAT(refused(good + "x"), Catch::Contains("unexpected bytes")); }
  SECTION("truncation at every length") {
    for (std::size_t n = 0; n < good.size(); ++n) CHECK(refused(good.substr(0, n)) != "accepted");
  }
  SECTION("an integer in a longer form than needed") {
    std::string bad = good;
    const auto pos = bad.find("\xfb");  // qty -5 as a negative fixint...
    REQUIRE(pos != std::string::npos);
    bad.replace(pos, 1, std::string("\xd0\xfb", 2));  // ...written as int8.
    CHECK_THAT(refused(bad), Catch::Contains("not canonically encoded"));
  }
  SECTION("a REAL written as float32") {
    Operation op = golden_operations()["insert"];
    op.columns = {{"x", Value::real(0.5)}};
    std::string bytes = log::encode(op);
    const auto pos = bytes.find("\xcb\x3f\xe0");
    REQUIRE(pos != std::string::npos);
    bytes.replace(pos, 9, std::string("\xca\x3f\x00\x00\x00", 5));
    CHECK(refused(bytes) != "accepted");
  }
  SECTION("an array that claims four billion elements") {
    CHECK_THAT(refused(std::string("\xdd\xff\xff\xff\xff", 5)), Catch::Contains("not valid msgpack"));
  }
  SECTION("a string that claims four gigabytes") {
    CHECK(refused(std::string("\x9b\x01\xdb\xff\xff\xff\xff\x00", 8)) != "accepted");
  }
  SECTION("deep nesting") { CHECK(refused(std::string(10000, '\x91')) != "accepted"); }
  SECTION("a newer format is refused as such") {
    std::string bytes = good;
    bytes[1] = 3;
    CHECK_THAT(refused(bytes), Catch::Contains("newer"));
  }
}

TEST_CASE("an operation of format 2 is read only where format 4.0 allows it, and only as canonical", "[log][encoding]") {
  const auto ops = golden_operations();
  const auto names = golden_names();
  const std::string good = log::encode(ops.at("update2"));
  auto refused = [](const std::string& bytes, Errc code) {
    try {
      (void)log::decode(bytes, "bundle b.ferry: operation 2", log::kNewestOperationFormat);
      return std::string("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == code);
      return std::string(e.what());
    }
  };
  SECTION("in a bundle of format 3.0 it is damage") {
    CHECK_THROWS_WITH(log::decode(good, "bundle b.ferry: operation 2"),
                      Catch::Contains("operation format 2 does not belong where it was found"));
  }
  SECTION("its deps never name its own chain") {
    Operation op = ops.at("update2");
    op.clock.set(op.origin, 1);
    CHECK_THROWS_AS(log::encode(op), Error);
    std::string bytes = good;  // The deps entry for device c, rewritten to name the origin (a).
    const std::string c_id = std::string(1, '\xc4') + '\x10' + std::string("\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f", 16);
    const auto at = bytes.find(c_id);
    REQUIRE(at != std::string::npos);
    for (int i = 0; i < 16; ++i) bytes[at + 2 + i] = static_cast<char>(i);
    CHECK_THAT(refused(bytes, Errc::corrupt), Catch::Contains("deps") && Catch::Contains("own chain"));
  }
  SECTION("an id other than the one origin, seq and time give cannot be written") {
    Operation op = ops.at("update2");
    op.id.bytes[15] ^= 1;
    CHECK_THROWS_WITH(log::encode(op), Catch::Contains("id must be the one"));
  }
  SECTION("an operation of a scope names chains of its own scope and of the shared one, each by device") {
    const Operation scoped = ops.at("update2s");
    const std::string bytes = log::encode(scoped, &names);
    log::KnownChains learnt;
    CHECK(log::decode(bytes, "golden", log::kNewestOperationFormat, &learnt) == scoped);
    CHECK(learnt.name(scoped.origin).device == test::counting_id(0));  // What the decoder met, for its caller.
    CHECK_THROWS_WITH(log::encode(scoped), Catch::Contains("needs its name"));
    Operation other = scoped;  // Its deps naming clinic 8's chain of device b.
    log::KnownChains more = names;
    other.clock.set(more.add(test::counting_id(16), "clinic-8"), 4);
    CHECK_THROWS_WITH(log::encode(other, &more), Catch::Contains("of another scope"));
    std::string eight = bytes;  // The deps entry of (b, "clinic-7") renamed (b, "clinic-8").
    const auto at = eight.find("clinic-7", 25);
    REQUIRE(at != std::string::npos);
    eight[at + 7] = '8';
    CHECK_THAT(refused(eight, Errc::corrupt), Catch::Contains("deps") && Catch::Contains("own scope"));
  }
  SECTION("a scope name is at most 128 bytes of text not starting with '*', and a device is never a chain") {
    auto with_scope = [&](const std::string& scope) {
      std::string bytes = good;
      bytes.replace(20, 1, log::Encoder().take() + std::string(1, static_cast<char>(0xa0 | scope.size())) + scope);
      return bytes;
    };
    CHECK(refused(with_scope("x"), Errc::corrupt) == "accepted");
    CHECK_THAT(refused(with_scope("*x"), Errc::corrupt), Catch::Contains("reserved"));
    CHECK_THAT(refused(with_scope("\xff"), Errc::corrupt), Catch::Contains("UTF-8"));
    Operation op = ops.at("update2");
    op.scope = std::string(129, 'x');
    CHECK_THROWS_WITH(log::encode(op), Catch::Contains("more than 128"));
    std::string posing = good;  // The origin's id given version 8: the form of a scope's chain.
    posing[4 + 6] = static_cast<char>(0x80);  // After array(12), 2 and the bin header.
    CHECK_THAT(refused(posing, Errc::corrupt), Catch::Contains("origin") && Catch::Contains("version 8"));
    std::string one = log::encode(ops.at("update"));  // Format 1 too: array(11), 1, the id, then the origin.
    one[22 + 6] = static_cast<char>(0x80);
    CHECK_THROWS_WITH(log::decode(one, "bundle b.ferry: operation 2"), Catch::Contains("origin") && Catch::Contains("version 8"));
  }
  SECTION("deps out of order, or a time beyond 48 bits, are refused") {
    Operation op = ops.at("update2");
    std::string bytes = log::encode(op);
    const auto b_at = bytes.find(std::string("\x93\xc4\x10\x10", 4)), c_at = bytes.find(std::string("\x93\xc4\x10\x20", 4));
    REQUIRE(b_at < c_at);
    const std::string b_entry = bytes.substr(b_at, c_at - b_at), c_entry = bytes.substr(c_at, 1 + 18 + 1 + 1);
    bytes.replace(b_at, b_entry.size() + c_entry.size(), c_entry + b_entry);
    CHECK_THAT(refused(bytes, Errc::corrupt), Catch::Contains("not canonically encoded"));
    std::string late = good;
    late.replace(25, 9, std::string("\xcf\x00\x01\x00\x00\x00\x00\x00\x00", 9));  // time_ms = 2^48.
    CHECK_THAT(refused(late, Errc::corrupt), Catch::Contains("time_ms"));
  }
}

TEST_CASE("an operation is found by its id in either format, though format 2 does not carry it", "[log][encoding]") {
  const auto ops = golden_operations();
  for (const std::string name : {"update", "update2"}) {
    INFO(name);
    const std::string body = log::encode(ops.at(name));
    CHECK(log::has_id(body, ops.at(name).id));
    CHECK(!log::has_id(body, ops.at("insert").id));
    CHECK(!log::has_id(body, ops.at("insert2").id));
  }
}

TEST_CASE("a vector clock compares as before, after, equal or concurrent", "[clock]") {
  const DeviceId a = test::counting_id(0), b = test::counting_id(16);
  VectorClock x, y;
  x.set(a, 1);
  y.set(a, 2);
  CHECK(compare(x, y) == Order::before);
  CHECK(compare(y, x) == Order::after);
  CHECK(compare(x, x) == Order::equal);
  x.set(b, 5);
  CHECK(compare(x, y) == Order::concurrent);
  VectorClock m = x;
  m.merge(y);
  CHECK(m.get(a) == 2);
  CHECK(m.get(b) == 5);
  CHECK(compare(x, m) == Order::before);
  CHECK(compare(y, m) == Order::before);
}

TEST_CASE("a vector clock holds each device once, in device order, whatever order it was given in", "[clock]") {
  std::vector<DeviceId> ids;
  for (std::uint8_t i = 0; i < 50; ++i) ids.push_back(test::counting_id(i));
  VectorClock reversed;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) reversed.set(*it, 7);
  std::vector<VectorClock::Entry> given;
  for (const DeviceId& id : ids) given.emplace_back(id, 7);
  given.emplace_back(ids[3], 2);   // Twice: the greater stays.
  given.emplace_back(ids[9], 0);   // 0 is absence, whatever else says.
  given.emplace_back(ids[9], 11);
  std::reverse(given.begin(), given.end());
  const VectorClock built(given);
  CHECK(built.entries().size() == ids.size());
  CHECK(std::is_sorted(built.entries().begin(), built.entries().end()));
  CHECK(built.get(ids[3]) == 7);
  CHECK(built.get(ids[9]) == 11);
  CHECK(reversed.entries().size() == ids.size());
  CHECK(std::is_sorted(reversed.entries().begin(), reversed.entries().end()));
  reversed.set(ids[9], 11);
  CHECK(built == reversed);
  reversed.set(ids[20], 0);  // Removed.
  CHECK(reversed.get(ids[20]) == 0);
  CHECK(reversed.entries().size() == ids.size() - 1);
  CHECK(reversed.included_in(built));
  CHECK(!built.included_in(reversed));
  VectorClock other;
  other.set(test::counting_id(200), 1);
  other.set(ids[0], 99);
  VectorClock merged = reversed;
  merged.merge(other);
  CHECK(merged.entries().size() == ids.size());  // ids[20] left, one new device came.
  CHECK(merged.get(ids[0]) == 99);
  CHECK(merged.get(ids[1]) == 7);
  CHECK(std::is_sorted(merged.entries().begin(), merged.entries().end()));
  CHECK(reversed.included_in(merged));
  CHECK(other.included_in(merged));
}
