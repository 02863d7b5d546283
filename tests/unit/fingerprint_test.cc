// Fingerprints: the Merkle root is RFC 6962's, replicas that converged by any
// route print the same, and any change -- a new operation, a changed row, a
// tampered log -- changes them.
#include <catch2/catch.hpp>

#include <random>

#include "fingerprint/merkle.h"
#include "hash/sha256.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL)";

// RFC 6962 section 2.1, written out recursively.
Hash reference_root(const std::vector<Hash>& leaves, std::size_t from, std::size_t to) {
  const std::size_t n = to - from;
  if (n == 0) return hash::sha256("", 0);
  if (n == 1) return fingerprint::leaf_hash(leaves[from]);
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return fingerprint::node_hash(reference_root(leaves, from, from + k), reference_root(leaves, from + k, to));
}

}  // namespace

TEST_CASE("the operations root is RFC 6962's Merkle tree hash for every size", "[fingerprint]") {
  std::mt19937_64 random(7);
  std::vector<Hash> leaves;
  fingerprint::MerkleTree tree;
  CHECK(to_hex(tree.root()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (int n = 1; n <= 70; ++n) {
    Hash leaf{};
    for (auto& b : leaf) b = static_cast<std::uint8_t>(random());
    leaves.push_back(leaf);
    tree.add(leaf);
    INFO(n << " leaves");
    CHECK(tree.size() == static_cast<std::uint64_t>(n));
    CHECK(tree.root() == reference_root(leaves, 0, leaves.size()));
  }
}

TEST_CASE("replicas that converged by different routes have the same fingerprint", "[fingerprint]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema), c(dir, "c", kSchema);
  Replica d(dir, "d", kSchema), e(dir, "e", kSchema);
  a.sql("INSERT INTO items VALUES(1, 'bolt', 0.1), (2, 'nut', -0.0)");
  b.sql("INSERT INTO items VALUES(3, 'washer', 1e300)");
  test::exchange(a, b, dir);
  b.sql("UPDATE items SET name = 'bolt, steel' WHERE id = 1");
  c.sql("INSERT INTO items VALUES(4, NULL, NULL)");
  // d hears from a, b, c directly; e hears everything through c, in the other order.
  test::exchange(c, d, dir);
  test::exchange(b, d, dir);
  test::exchange(a, d, dir);
  test::exchange(b, c, dir);
  test::exchange(a, c, dir);
  test::exchange(c, e, dir);
  const Fingerprint fd = d.engine.fingerprint(), fe = e.engine.fingerprint();
  CHECK(fd.operation_count == 5);
  CHECK(fd.operations == fe.operations);
  CHECK(fd.state == fe.state);
  REQUIRE(fd.heads.size() == 3);
  for (std::size_t i = 0; i < fd.heads.size(); ++i) {
    CHECK(fd.heads[i].device == fe.heads[i].device);
    CHECK(fd.heads[i].seq == fe.heads[i].seq);
    CHECK(fd.heads[i].hash == fe.heads[i].hash);
  }
  CHECK(d.dump("items") == e.dump("items"));

  SECTION("one more operation changes the operations root and the data digest") {
    d.sql("UPDATE items SET price = 0.25 WHERE id = 1");
    const Fingerprint after = d.engine.fingerprint();
    CHECK(after.operations != fe.operations);
    CHECK(after.state != fe.state);
    CHECK(after.operation_count == 6);
  }
  SECTION("a tampered operation in the log changes the operations root") {
    test::exec(d.path,
               "DROP TRIGGER ferry_log_append_only_update;"
               "UPDATE ferry_log SET body = CAST(substr(body, 1, length(body) - 33) || x'00' || substr(body, length(body) - 31)"
               " AS BLOB) WHERE id = (SELECT min(id) FROM ferry_log)");
    CHECK(d.engine.fingerprint().operations != fe.operations);
    CHECK(d.engine.fingerprint().state == fe.state);
  }
}
