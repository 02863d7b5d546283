// Comparing devices that never meet: inclusion proofs verify and fail on any
// change, fingerprint files round-trip, diff names the exact ranges one side
// lacks (and finds forks from the chain heads, not by reading logs whole), and
// the network view groups holdings by what they hold.
#include <catch2/catch.hpp>

#include <random>
#include <sys/stat.h>
#include <unistd.h>

#include "fingerprint/merkle.h"
#include "hash/sha256.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL)";

Hash random_hash(std::mt19937_64& random) {
  Hash h{};
  for (auto& b : h) b = static_cast<std::uint8_t>(random());
  return h;
}

// The root of RFC 6962's tree over `leaves`, built incrementally.
Hash root_over(const std::vector<Hash>& leaves) {
  fingerprint::MerkleTree tree;
  for (const auto& l : leaves) tree.add(l);
  return tree.root();
}

// A synthetic holding of one device's chain 1..last whose hash at seq is f(seq),
// counting how often its hashes are asked for.
Holding chain_holding(const DeviceId& device, std::uint64_t last, std::uint64_t fork_from, std::size_t* lookups) {
  auto hash = [fork_from](std::uint64_t seq) {
    const std::string text = (seq >= fork_from ? "other " : "") + std::to_string(seq);
    return hash::sha256(text.data(), text.size());
  };
  Holding h;
  h.path = h.label = "synthetic";
  h.kind = "database";
  h.chains.push_back(Holding::Chain{device, 1, last, hash(last)});
  h.hash_at = [hash, last, lookups](const DeviceId&, std::uint64_t seq) -> std::optional<Hash> {
    ++*lookups;
    if (seq < 1 || seq > last) return std::nullopt;
    return hash(seq);
  };
  return h;
}

}  // namespace

TEST_CASE("an audit path leads every leaf to the root, and nothing else does", "[compare][proof]") {
  std::mt19937_64 random(11);
  for (std::size_t n = 1; n <= 33; ++n) {
    std::vector<Hash> leaves;
    for (std::size_t i = 0; i < n; ++i) leaves.push_back(random_hash(random));
    const Hash root = root_over(leaves);
    for (std::size_t i = 0; i < n; ++i) {
      INFO(n << " leaves, leaf " << i);
      const auto path = fingerprint::audit_path(leaves, i);
      CHECK(fingerprint::root_from_path(leaves[i], i, n, path) == root);
      if (n > 1) CHECK(fingerprint::root_from_path(leaves[(i + 1) % n], i, n, path) != root);  // Another leaf.
      if (n > 1) CHECK(fingerprint::root_from_path(leaves[i], (i + 1) % n, n, path) != root);
      CHECK(fingerprint::root_from_path(leaves[i], i, 2 * n + 1, path) != root);
      if (!path.empty()) {
        auto shorter = path;
        shorter.pop_back();
        CHECK(fingerprint::root_from_path(leaves[i], i, n, shorter) != root);
      }
      CHECK_FALSE(fingerprint::root_from_path(leaves[i], n, n, path).has_value());
    }
  }
}

TEST_CASE("a device proves one of its operations, the proof checks without the database and fails on any change",
          "[compare][proof]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 0.1), (2, 'nut', 0.2), (3, 'washer', 0.3)");
  b.sql("INSERT INTO items VALUES(4, 'gear', 4.0)");
  test::exchange(a, b, dir);
  b.sql("UPDATE items SET price = 0.15 WHERE id = 1");
  const auto ops = b.engine.log();
  REQUIRE(ops.size() == 5);
  const Hash root = b.engine.fingerprint().operations;
  for (const Operation& op : ops) {
    const InclusionProof proof = b.engine.prove(op.id);
    CHECK(proof.size == 5);
    CHECK(check_proof(root, proof));
    CHECK(check_proof(root, InclusionProof::parse(proof.to_text())));
  }

  const std::string text = b.engine.prove(ops[2].id).to_text();
  SECTION("every hex digit changed breaks it") {
    const auto start = text.find(':', text.find(':', std::string("ferry-proof-1:").size()) + 1) + 1;
    for (std::size_t i = start; i < text.size(); ++i) {
      if (text[i] == ':' || text[i] == ',') continue;
      std::string changed = text;
      changed[i] = changed[i] == '0' ? '1' : '0';
      INFO("digit " << i);
      CHECK_FALSE(check_proof(root, InclusionProof::parse(changed)));
    }
  }
  SECTION("another index or size breaks it; a malformed text is refused by name") {
    // The index and size steer the path (left or right at each level); a change that
    // steers it elsewhere fails. (What a valid proof establishes is that the
    // operation is among those the root covers.)
    InclusionProof p = InclusionProof::parse(text);
    p.index ^= 1;
    CHECK_FALSE(check_proof(root, p));
    p = InclusionProof::parse(text);
    p.size *= 2;
    CHECK_FALSE(check_proof(root, p));
    p = InclusionProof::parse(text);
    p.index = p.size;
    CHECK_FALSE(check_proof(root, p));
    CHECK_THROWS_WITH(InclusionProof::parse("proof:1:2"), Catch::Contains("ferry-proof-1:"));
    CHECK_THROWS_WITH(InclusionProof::parse("ferry-proof-1:x:5:00:"), Catch::Contains("index"));
    CHECK_THROWS_WITH(InclusionProof::parse("ferry-proof-1:1:5:abc:"), Catch::Contains("operation hash"));
  }
  SECTION("the root of another set of operations does not accept it") {
    a.sql("DELETE FROM items WHERE id = 3");
    CHECK_FALSE(check_proof(a.engine.fingerprint().operations, InclusionProof::parse(text)));
  }
  SECTION("an operation the log does not hold cannot be proved") {
    OperationId unknown;
    unknown.bytes.fill(7);
    CHECK_THROWS_WITH(b.engine.prove(unknown), Catch::Contains("holds no operation"));
  }
}

TEST_CASE("a fingerprint file round-trips, a damaged one is refused naming the field", "[compare][file]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 0.1)");
  const Fingerprint f = a.engine.fingerprint();
  const std::string path = dir.file("a.fingerprint");
  write_fingerprint(f, path);
  const Fingerprint back = read_fingerprint(path);
  CHECK(back.device == a.engine.device_id());
  CHECK(back.device_name == "a");
  CHECK(back.operations == f.operations);
  CHECK(back.operation_count == 1);
  CHECK(back.state == f.state);
  REQUIRE(back.tables.size() == 1);
  CHECK(back.tables[0].name == "items");
  CHECK(back.tables[0].rows == 1);
  CHECK(back.tables[0].digest == f.tables[0].digest);
  REQUIRE(back.heads.size() == 1);
  CHECK(back.heads[0].hash == f.heads[0].hash);

  auto text = test::read_file(path);
  std::string s(text.begin(), text.end());
  auto damaged = [&](const std::string& from, const std::string& to) {
    std::string d = s;
    d.replace(d.find(from), from.size(), to);
    test::write_file(path, std::vector<std::uint8_t>(d.begin(), d.end()));
  };
  damaged("\"root\": \"", "\"root\": \"zz");
  CHECK_THROWS_WITH(read_fingerprint(path), Catch::Contains("/operations/root") && Catch::Contains("a.fingerprint"));
  damaged("\"seq\": 1", "\"seq\": -1");
  CHECK_THROWS_WITH(read_fingerprint(path), Catch::Contains("/heads/0/seq"));
  damaged("\"taken\": \"", "\"taken\": \"noon ");
  CHECK_THROWS_WITH(read_fingerprint(path), Catch::Contains("/taken"));
  damaged("{", "[");
  CHECK_THROWS_WITH(read_fingerprint(path), Catch::Contains("not a ferry fingerprint file"));
  damaged("ferry-fingerprint-1", "ferry-fingerprint-9");
  CHECK_THROWS_WITH(read_fingerprint(path), Catch::Contains("upgrade ferry"));
}

TEST_CASE("diff names the exact ranges each side lacks and the tables that differ", "[compare][diff]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 0.1)");
  test::exchange(a, b, dir);
  CHECK(diff(Holding::open(a.path), Holding::open(b.path)).identical());
  const std::string b_then = dir.file("b.fingerprint");
  write_fingerprint(b.engine.fingerprint(), b_then);

  a.sql("INSERT INTO items VALUES(2, 'nut', 0.2); UPDATE items SET name = 'bolt, steel' WHERE id = 1");
  b.sql("INSERT INTO items VALUES(3, 'gear', 3.0)");
  for (const std::string& other : {b.path, b_then}) {
    INFO(other);
    const Difference d = diff(Holding::open(a.path), Holding::open(other));
    CHECK_FALSE(d.identical());
    REQUIRE(d.devices.size() == (other == b.path ? 2u : 1u));
    const DeviceDifference& da = d.devices[0].device == a.engine.device_id() ? d.devices[0] : d.devices[1];
    REQUIRE(da.only_first.size() == 1);
    CHECK(da.only_first[0].first == 2);
    CHECK(da.only_first[0].last == 3);
    CHECK(da.only_second.empty());
    CHECK(da.forked_at == 0);
    CHECK(d.tables_differ == std::vector<std::string>{"items"});
  }
  const Difference d = diff(Holding::open(a.path), Holding::open(b.path));
  const DeviceDifference& db = d.devices[0].device == b.engine.device_id() ? d.devices[0] : d.devices[1];
  REQUIRE(db.only_second.size() == 1);
  CHECK(db.only_second[0].first == 1);
  CHECK(db.only_second[0].last == 1);

  SECTION("against a bundle: what it carries that the database lacks") {
    const std::string bundle = dir.file("a-to-b.ferry");
    ExportOptions for_b;
    for_b.peer = b.engine.device_id().to_string();
    (void)a.engine.export_bundle(bundle, for_b);
    const Difference db_vs = diff(Holding::open(b.path), Holding::open(bundle));
    REQUIRE(db_vs.devices.size() >= 1);
    bool found = false;
    for (const auto& dd : db_vs.devices)
      if (dd.device == a.engine.device_id()) {
        found = true;
        REQUIRE(dd.only_second.size() == 1);
        CHECK(dd.only_second[0].first == 2);
        CHECK(dd.only_second[0].last == 3);
        CHECK(dd.forked_at == 0);
      }
    CHECK(found);
    CHECK_FALSE(db_vs.same_data.has_value());
  }
  SECTION("a table tracked on one side only") {
    a.sql("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
    a.engine.track("notes");
    const Difference dt = diff(Holding::open(a.path), Holding::open(b.path));
    CHECK(dt.tables_only_first == std::vector<std::string>{"notes"});
  }
  SECTION("after a full exchange they are identical") {
    test::exchange(a, b, dir);
    test::exchange(b, a, dir);
    CHECK(diff(Holding::open(a.path), Holding::open(b.path)).identical());
  }
}

TEST_CASE("diff finds where a copied database forked, by bisection", "[compare][diff]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema);
  for (int i = 1; i <= 20; ++i) a.sql("INSERT INTO items VALUES(" + std::to_string(i) + ", 'x', 1.0)");
  // A restored backup, or a copied file, goes on writing as the same device.
  const std::string copy = dir.file("copy.db");
  a.engine.seal();
  test::exec(a.path, "PRAGMA wal_checkpoint(TRUNCATE)");
  test::write_file(copy, test::read_file(a.path));
  test::write_file(copy + ".key", test::read_file(a.path + ".key"));
  ::chmod((copy + ".key").c_str(), 0600);
  a.sql("INSERT INTO items VALUES(21, 'original', 1.0)");
  test::exec(copy, "INSERT INTO items VALUES(21, 'copy', 2.0); INSERT INTO items VALUES(22, 'copy', 2.0)");
  const Difference d = diff(Holding::open(a.path), Holding::open(copy));
  REQUIRE(d.devices.size() == 1);
  CHECK(d.devices[0].forked_at == 21);
  REQUIRE(d.devices[0].only_second.size() == 1);
  CHECK(d.devices[0].only_second[0].first == 22);
}

TEST_CASE("diff reads one hash per differing chain, not the logs", "[compare][diff]") {
  DeviceId device;
  device.bytes.fill(1);
  std::size_t lookups = 0;
  const std::uint64_t million = 1000000;
  SECTION("equal heads: nothing is read") {
    CHECK(diff(chain_holding(device, million, million + 1, &lookups), chain_holding(device, million, million + 1, &lookups))
              .same_operations);
    CHECK(lookups == 0);
  }
  SECTION("one side a handful ahead: one hash is read") {
    const Difference d = diff(chain_holding(device, million, million + 1, &lookups),
                              chain_holding(device, million + 5, million + 10, &lookups));
    REQUIRE(d.devices.size() == 1);
    CHECK(d.devices[0].only_second[0].first == million + 1);
    CHECK(d.devices[0].only_second[0].last == million + 5);
    CHECK(lookups == 1);
  }
  SECTION("a fork deep in the chain: found by bisection") {
    const Difference d = diff(chain_holding(device, million, million + 1, &lookups),
                              chain_holding(device, million, 777777, &lookups));
    REQUIRE(d.devices.size() == 1);
    CHECK(d.devices[0].forked_at == 777777);
    CHECK(lookups <= 2 * 21);
  }
}

TEST_CASE("the network view groups devices by what they hold and says who is behind by what", "[compare][network]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 0.1)");
  test::exchange(a, b, dir);
  test::exchange(a, c, dir);
  a.sql("INSERT INTO items VALUES(2, 'nut', 0.2); INSERT INTO items VALUES(3, 'gear', 0.3)");
  test::exchange(a, b, dir);
  const std::string c_file = dir.file("c.fingerprint");
  write_fingerprint(c.engine.fingerprint(), c_file);
  const std::vector<Holding> all{Holding::open(a.path), Holding::open(b.path), Holding::open(c_file)};
  const auto groups = network(all);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].members == std::vector<std::size_t>{0, 1});
  CHECK(groups[0].missing.empty());
  CHECK(groups[1].members == std::vector<std::size_t>{2});
  REQUIRE(groups[1].missing.size() == 1);
  CHECK(groups[1].missing[0].device == a.engine.device_id());
  CHECK(groups[1].missing[0].first == 2);
  CHECK(groups[1].missing[0].last == 3);

  SECTION("same operations, other rows: data_differs") {
    test::exchange(a, c, dir);
    c.sql("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
    c.engine.track("notes");  // Empty: no operation, but another set of tables.
    const auto split = network({Holding::open(a.path), Holding::open(b.path), Holding::open(c.path)});
    REQUIRE(split.size() == 2);
    CHECK(split[0].members == std::vector<std::size_t>{0, 1});
    CHECK(split[0].data_differs);
    CHECK(split[1].data_differs);
    CHECK(split[1].missing.empty());
  }
}
