// Verifying a bundle on a second thread while applying it (bundle/background_scan.h)
// keeps every guarantee of the single-threaded scan: order, verification, the first
// failure from either side, and no thread left running.
#include <catch2/catch.hpp>

#include "bundle/background_scan.h"
#include "log/codec.h"
#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";
constexpr int kOperations = 10000;  // Many more than the batches the two threads may hold between them.

struct Fixture {
  test::TempDir dir;
  test::Replica a{dir, "a", kSchema};
  std::string bundle = dir.file("a.ferry");

  // `format` 3: operations as rows of ferry_ops, one of which a test damages.
  explicit Fixture(unsigned format = 0) {
    if (format == 3) a.engine.set_ferry3_compatible(true);
    a.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(kOperations) +
          ") INSERT INTO items SELECT i, 'item-' || i FROM n");
    ExportOptions all;
    all.all = true;
    all.format = format;
    (void)a.engine.export_bundle(bundle, all);
  }
};

}  // namespace

TEST_CASE("operations arrive verified and in order, as from scan()", "[bundle][scan]") {
  Fixture f;
  bundle::Reader reader(f.bundle);
  std::uint64_t expected = 1;
  bundle::scan_in_background(reader, [&](const Operation& op, std::string_view body, const Hash& hash) {
    CHECK(op.seq == expected++);
    CHECK(log::hash_of(body) == hash);
  });
  CHECK(expected == kOperations + 1);
}

TEST_CASE("a failure while applying stops the scanning thread and is thrown", "[bundle][scan]") {
  Fixture f;
  bundle::Reader reader(f.bundle);
  const std::uint64_t stop_at = GENERATE(1, 300, 9999);
  std::uint64_t seen = 0;
  CHECK_THROWS_WITH(bundle::scan_in_background(reader,
                                               [&](const Operation& op, std::string_view, const Hash&) {
                                                 seen = op.seq;
                                                 if (op.seq == stop_at) throw Error(Errc::refused, "stop here");
                                               }),
                    "stop here");
  CHECK(seen == stop_at);
}

TEST_CASE("a damaged operation deep in the bundle is thrown after those before it were visited", "[bundle][scan]") {
  Fixture f(3);
  test::exec(f.bundle, "UPDATE ferry_ops SET body = CAST(substr(body, 1, 20) AS BLOB) WHERE seq = 7000");
  bundle::Reader reader(f.bundle);
  std::uint64_t last = 0;
  CHECK_THROWS_WITH(bundle::scan_in_background(reader, [&](const Operation& op, std::string_view, const Hash&) { last = op.seq; }),
                    Catch::Contains("operation 7000"));
  CHECK(last == 6999);
}
