// The stored form of an operation in a format 4.0 bundle: only what the range,
// the position and the bundle's tables do not already say, turned back into
// exactly the canonical encoding, in one way only (bundle/stored.h).
#include <algorithm>
#include <catch2/catch.hpp>

#include "bundle/stored.h"
#include "ferry/error.h"
#include "support/support.h"
#include "log/codec.h"
#include "util/uuid.h"

using namespace ferry;
using namespace std::string_literals;
using bundle::Position;
using bundle::StoredForms;

namespace {

const DeviceId a = test::counting_id(0x01), b = test::counting_id(0x41), c = test::counting_id(0x91);

StoredForms forms() {
  return StoredForms({a, b, c}, {{"items", {"id", "name", "qty", "price", "note"}}, {"tags", {"item", "tag"}}});
}

// Three operations of chain a: an insert, an update that learnt of b and c, a delete.
std::vector<Operation> chain() {
  std::vector<Operation> ops(3);
  const std::int64_t t0 = 1764806400000;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    Operation& op = ops[i];
    op.format = 2;
    op.origin = a;
    op.seq = 41 + i;
    op.id = util::make_operation_id(t0 + static_cast<std::int64_t>(i == 2 ? 0 : 1000 * i), a, op.seq);  // Time may go back.
    op.table = "items";
    op.key = {Value::integer(7)};
  }
  ops[0].lamport = 100;
  ops[0].kind = OpKind::insert;
  ops[0].columns = {{"name", Value::text("bolt")}, {"note", Value()}, {"price", Value::real(-0.0)},
                    {"qty", Value::integer(3)}};
  ops[1].lamport = 250;
  ops[1].kind = OpKind::update;
  ops[1].clock.set(b, 12);
  ops[1].clock.set(c, 1u << 20);
  ops[1].columns = {{"qty", Value::integer(4)}};
  ops[2].lamport = 251;
  ops[2].kind = OpKind::remove;
  Hash prev{};
  for (auto& op : ops) {
    op.prev_hash = prev;
    prev = log::hash_of(log::encode(op));
  }
  return ops;
}

// Stores the operations as one run of a range, each at its position.
std::string stored(const std::vector<Operation>& ops) {
  std::string out;
  Position at;
  for (const auto& op : ops) {
    at.origin = op.origin, at.seq = op.seq, at.prev_hash = op.prev_hash;
    forms().encode(op, at, out);
    at.prev_lamport = op.lamport;
    at.prev_time_ms = op.id.unix_ms();
  }
  return out;
}

// Decodes a run stored for `ops`' positions.
std::vector<Operation> read(const std::string& segment, const std::vector<Operation>& positions) {
  std::vector<Operation> out;
  std::size_t offset = 0;
  Position at;
  for (const auto& p : positions) {
    at.origin = p.origin, at.seq = p.seq, at.prev_hash = p.prev_hash;
    std::string canonical;
    out.push_back(forms().decode(segment, offset, at, canonical, "bundle b.ferry: operation " + std::to_string(p.seq)));
    CHECK(canonical == log::encode(out.back()));
    at.prev_lamport = out.back().lamport;
    at.prev_time_ms = out.back().id.unix_ms();
  }
  CHECK(offset == segment.size());
  return out;
}

std::string refused(const std::string& segment, const std::vector<Operation>& positions) {
  try {
    (void)read(segment, positions);
    return "accepted";
  } catch (const Error& e) {
    CHECK(e.code() == Errc::corrupt);
    return e.what();
  }
}

}  // namespace

TEST_CASE("stored forms give back every operation and its canonical bytes, in a fraction of them", "[bundle][stored]") {
  const auto ops = chain();
  const std::string segment = stored(ops);
  CHECK(read(segment, ops) == ops);
  std::size_t canonical = 0;
  for (const auto& op : ops) canonical += log::encode(op).size();
  CHECK(segment.size() * 2 < canonical);
  // The update: header 1, lamport step 2, time step 3, two deps 11, table 1, key 2, kind 1, one column 4.
  std::string update;
  Position at;
  at.origin = a, at.seq = 42, at.prev_lamport = 100, at.prev_time_ms = ops[0].id.unix_ms();
  forms().encode(ops[1], at, update);
  CHECK(update.size() == 25);
}

TEST_CASE("a format 1 operation in a chain begun before 4.0 is stored as its 3.0 body", "[bundle][stored]") {
  Operation op;
  op.id = util::make_operation_id(1764806400000, a, 5);
  op.origin = a;
  op.seq = 5;
  op.lamport = 9;
  op.clock.set(a, 5);
  op.clock.set(b, 2);
  op.table = "items";
  op.key = {Value::integer(1)};
  op.kind = OpKind::remove;
  op.prev_hash.fill(0x5a);
  const std::string segment = stored({op});
  CHECK(segment.find(std::string(32, '\x5a')) == std::string::npos);  // The link is not stored...
  CHECK(read(segment, {op}) == std::vector<Operation>{op});           // ...but restored.
  // Its wrapper has one form too: [nil, bin 8] for a body this short.
  REQUIRE(segment.substr(0, 3) == "\x92\xc0\xc4");
  const std::string body = segment.substr(4);
  const std::string bin16 = "\x92\xc0\xc5\x00"s + static_cast<char>(body.size()) + body;
  const std::string array16 = "\xdc\x00\x02"s + segment.substr(1);
  for (const auto& other : {bin16, array16})
    CHECK_THAT(refused(other, {op}), Catch::Contains("not stored in its one form"));
}

TEST_CASE("a stored form is refused, by field, for anything but the one form of a well-formed operation",
          "[bundle][stored]") {
  const auto ops = chain();
  const std::string good = stored(ops);
  SECTION("cut at every length") {
    for (std::size_t n = 0; n < good.size(); ++n) CHECK(refused(good.substr(0, n), ops) != "accepted");
  }
  auto patched = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    return s;
  };
  // The update: lamport step 150 (0xcc 0x96), time step 1000 (0xcd 0x03 0xe8), deps [[2, 12], [3, 2^20]], table 1.
  const std::string update_start = "\x97\xcc\x96\xcd\x03\xe8\x92\x92\x02\x0c\x92\x03\xce\x00\x10\x00\x00\x01"s;
  REQUIRE(good.find(update_start) != std::string::npos);
  SECTION("a Lamport time that does not grow along the chain") {
    CHECK_THAT(refused(patched("\x97\xcc\x96"s, "\x97\x00"s), ops), Catch::Contains("lamport step"));
  }
  SECTION("a chain or a table the bundle does not number") {
    CHECK_THAT(refused(patched("\x92\x92\x02\x0c", "\x92\x92\x04\x0c"), ops), Catch::Contains("deps chain"));
    CHECK_THAT(refused(patched("\x00\x10\x00\x00\x01"s, "\x00\x10\x00\x00\x03"s), ops),
               Catch::Contains("table"));
  }
  SECTION("deps naming the operation's own chain") {
    CHECK_THAT(refused(patched("\x92\x92\x02\x0c", "\x92\x92\x01\x0c"), ops), Catch::Contains("own chain"));
  }
  SECTION("deps or columns out of order: not the one stored form") {
    CHECK_THAT(refused(patched("\x92\x02\x0c\x92\x03\xce\x00\x10\x00\x00"s, "\x92\x03\xce\x00\x10\x00\x00\x92\x02\x0c"s), ops),
               Catch::Contains("not stored in its one form"));
  }
  SECTION("a column the table does not have") {
    const auto ins = good.find("\x94\x92\x01");  // The insert's four columns, the first number 1 (name).
    REQUIRE(ins != std::string::npos);
    std::string s = good;
    s[ins + 2] = 9;
    CHECK_THAT(refused(s, ops), Catch::Contains("column number"));
  }
  SECTION("a time before 1970 or past 48 bits") {
    CHECK_THAT(refused(patched("\xcd\x03\xe8"s, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"s), ops),
               Catch::Contains("time step"));
  }
}

TEST_CASE("the stored form written from a held body is byte for byte the one written from the operation",
          "[bundle][stored]") {
  auto ops = chain();
  Operation wide = ops[0];  // Every kind of value, every width of integer, columns out of table order by name.
  wide.seq = 44;
  wide.id = util::make_operation_id(1764806400000 - 5000, a, wide.seq);  // Time steps back.
  wide.lamport = 252;
  wide.prev_hash = log::hash_of(log::encode(ops[2]));
  wide.key = {Value::integer(-1)};
  wide.columns = {{"name", Value::text(std::string(300, 'x'))}, {"note", Value::blob(std::vector<std::uint8_t>(70000, 7))},
                  {"price", Value::real(1e300)}, {"qty", Value::integer(INT64_MIN)}};
  ops.push_back(wide);
  Operation tag = wide;
  tag.seq = 45;
  tag.id = util::make_operation_id(1764806400000 + 9000, a, tag.seq);
  tag.lamport = 253;
  tag.prev_hash = log::hash_of(log::encode(wide));
  tag.table = "tags";
  tag.key = {Value::integer(1u << 31), Value::text("")};
  tag.columns = {{"item", Value::integer(-129)}, {"tag", Value::integer(65536)}};
  ops.push_back(tag);
  std::string from_held;
  Position at;
  for (const auto& op : ops) {
    at.origin = op.origin, at.seq = op.seq, at.prev_hash = op.prev_hash;
    std::uint64_t lamport = 0, time_ms = 0;
    forms().encode_held(log::encode(op), at, from_held, lamport, time_ms);
    CHECK(lamport == op.lamport);
    CHECK(time_ms == static_cast<std::uint64_t>(op.id.unix_ms()));
    at.prev_lamport = lamport;
    at.prev_time_ms = time_ms;
  }
  CHECK(from_held == stored(ops));
  CHECK(read(from_held, ops) == ops);

  SECTION("a held body of a table, or following a chain, the bundle does not number is refused by name") {
    Operation other = ops[0];
    other.table = "elsewhere";
    std::string out;
    std::uint64_t lamport = 0, time_ms = 0;
    at = Position{};
    at.origin = a, at.seq = other.seq;
    CHECK_THROWS_WITH(forms().encode_held(log::encode(other), at, out, lamport, time_ms),
                      Catch::Contains("table elsewhere is not among the bundle's tables"));
    log::KnownChains names;  // ops[1] following b's chain of scope z instead of b's own.
    Operation follows = ops[1];
    follows.scope = "z";
    follows.origin = names.add(a, "z");
    follows.id = util::make_operation_id(follows.id.unix_ms(), follows.origin, follows.seq);
    follows.clock = VectorClock();
    follows.clock.set(names.add(b, "z"), 12);
    at.origin = follows.origin;
    CHECK_THROWS_WITH(forms().encode_held(log::encode(follows, &names), at, out, lamport, time_ms),
                      Catch::Contains("(scope 'z'), not among the bundle's"));
    CHECK(out.empty());
  }
}

TEST_CASE("operations of a scope's chain are stored by chain number and come back with their chains' names",
          "[bundle][stored][scope]") {
  log::KnownChains names;
  const DeviceId a7 = names.add(a, "clinic-7"), b7 = names.add(b, "clinic-7"), b8 = names.add(b, "clinic-8");
  std::vector<DeviceId> chains{a, b, c, a7, b7, b8};
  std::sort(chains.begin(), chains.end());  // Numbered in chain id order (format4.md §12.6).
  const StoredForms scoped({chains}, {{"items", {"id", "name", "qty", "price", "note"}}}, names);
  std::vector<Operation> ops = chain();
  Hash prev{};
  for (auto& op : ops) {
    op.origin = a7;
    op.scope = "clinic-7";
    op.id = util::make_operation_id(op.id.unix_ms(), a7, op.seq);
    op.prev_hash = prev;
    prev = log::hash_of(log::encode(op, &names));
  }
  ops[1].clock = VectorClock();  // Its own scope's chain of b, c's shared chain and a's own.
  ops[1].clock.set(b7, 12);
  ops[1].clock.set(c, 3);
  ops[1].clock.set(a, 5);
  prev = log::hash_of(log::encode(ops[0], &names));
  for (std::size_t i = 1; i < ops.size(); ++i) {
    ops[i].prev_hash = prev;
    prev = log::hash_of(log::encode(ops[i], &names));
  }
  std::string from_held, from_op;
  Position at;
  for (const auto& op : ops) {
    at.origin = op.origin, at.seq = op.seq, at.prev_hash = op.prev_hash;
    std::uint64_t lamport = 0, time_ms = 0;
    scoped.encode_held(log::encode(op, &names), at, from_held, lamport, time_ms);
    scoped.encode(op, at, from_op);
    at.prev_lamport = lamport;
    at.prev_time_ms = time_ms;
  }
  CHECK(from_held == from_op);
  std::size_t offset = 0;
  at = Position{};
  for (const auto& op : ops) {
    at.origin = op.origin, at.seq = op.seq, at.prev_hash = op.prev_hash;
    std::string canonical;
    const Operation back = scoped.decode(from_held, offset, at, canonical, "bundle b.ferry: operation");
    CHECK(back == op);
    CHECK(canonical == log::encode(op, &names));
    at.prev_lamport = back.lamport;
    at.prev_time_ms = static_cast<std::uint64_t>(back.id.unix_ms());
  }
  // A stored form whose deps name a chain of another scope is damage, named.
  Operation stray = ops[0];
  stray.clock.set(b8, 1);
  std::string out;
  at = Position{};
  at.origin = stray.origin, at.seq = stray.seq, at.prev_hash = stray.prev_hash;
  scoped.encode(stray, at, out);
  std::size_t start = 0;
  std::string canonical;
  try {
    (void)scoped.decode(out, start, at, canonical, "bundle b.ferry: operation 41");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains("operation 41") && Catch::Contains("of another scope"));
  }
}
