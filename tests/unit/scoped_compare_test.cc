// Seeing scopes (bundle_format/format4.md §12.7): a fingerprint of one scope
// covers the shared tables and chains with that scope's chains and rows, so
// the head office's view of a clinic equals the clinic's own fingerprint of
// it, whatever else either holds; diff compares for one scope.
#include <catch2/catch.hpp>

#include "ferry/compare.h"
#include "ferry/error.h"
#include "log/chain.h"
#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* const kSchema = test::kClinicSchema;

GrantInfo writes(std::vector<std::string> scopes) {
  GrantInfo g;
  g.write = std::move(scopes);
  g.write.push_back("");
  return g;
}

// A head office and two clinics, each writing its own scope, all exchanged through the office.
struct Network {
  test::TempDir dir;
  Replica hq{dir, "hq", kSchema}, seven{dir, "seven", kSchema}, eight{dir, "eight", kSchema};
  Network() {
    for (Replica* r : {&hq, &seven, &eight}) test::track_clinic_tables(*r);
    hq.engine.fleet_init();
    for (Replica* r : {&seven, &eight})
      r->engine.fleet_join(hq.engine.device_id().to_string(), hq.engine.public_key(), "hq");
    hq.engine.grant(seven.engine.device_id().to_string(), writes({"7"}));
    hq.engine.grant(eight.engine.device_id().to_string(), writes({"8"}));
    sync();
  }
  void sync() {
    for (Replica* r : {&seven, &eight}) (void)test::exchange(hq, *r, dir);
    for (Replica* r : {&seven, &eight}) (void)test::exchange(*r, hq, dir);
    for (Replica* r : {&seven, &eight}) (void)test::exchange(hq, *r, dir);
  }
};

bool same(const Fingerprint& a, const Fingerprint& b) {
  if (a.operations != b.operations || a.state != b.state || a.heads.size() != b.heads.size()) return false;
  for (std::size_t i = 0; i < a.heads.size(); ++i)
    if (a.heads[i].device != b.heads[i].device || a.heads[i].hash != b.heads[i].hash) return false;
  return true;
}

}  // namespace

TEST_CASE("the head office's fingerprint of a clinic's scope equals the clinic's own", "[scope][fleet][compare]") {
  Network n;
  n.hq.sql("INSERT INTO drugs VALUES(1, 'aspirin'); INSERT INTO visits VALUES(1, 'a', 7), (2, 'b', 8)");
  n.seven.sql("INSERT INTO visits VALUES(3, 'c', 7)");
  n.eight.sql("INSERT INTO visits VALUES(4, 'd', 8)");
  n.sync();

  CHECK(same(n.hq.engine.fingerprint("7"), n.seven.engine.fingerprint("7")));
  CHECK(same(n.hq.engine.fingerprint("8"), n.eight.engine.fingerprint("8")));
  CHECK(same(n.seven.engine.fingerprint(""), n.eight.engine.fingerprint("")));  // The shared tables alone.
  CHECK_FALSE(same(n.hq.engine.fingerprint(), n.seven.engine.fingerprint()));  // The office holds more.
  CHECK_FALSE(same(n.hq.engine.fingerprint("8"), n.seven.engine.fingerprint("8")));  // Seven holds nothing of 8.
  CHECK(n.hq.engine.fingerprint("7").scope == std::optional<std::string>("7"));
  CHECK_FALSE(n.hq.engine.fingerprint().scope);

  // A change in 7 not yet sent: 7 differs, 8 does not.
  n.hq.sql("UPDATE visits SET note = 'edited' WHERE id = 3");
  CHECK_FALSE(same(n.hq.engine.fingerprint("7"), n.seven.engine.fingerprint("7")));
  CHECK(same(n.hq.engine.fingerprint("8"), n.eight.engine.fingerprint("8")));
  n.sync();
  CHECK(same(n.hq.engine.fingerprint("7"), n.seven.engine.fingerprint("7")));

  CHECK_THROWS_AS(n.hq.engine.fingerprint("*7"), Error);  // Not a scope name.
}

TEST_CASE("diff compares one scope, and a fingerprint file of one scope says which", "[scope][fleet][compare]") {
  Network n;
  n.hq.sql("INSERT INTO visits VALUES(1, 'a', 7), (2, 'b', 8)");
  n.sync();
  const std::string file = n.dir.file("seven.fingerprint");
  Fingerprint f = n.seven.engine.fingerprint("7");
  write_fingerprint(f, file);
  CHECK(read_fingerprint(file).scope == std::optional<std::string>("7"));

  // The office's view of clinic 7 against clinic 7's file: the same.
  const Difference d = diff(Holding::open(n.hq.path, std::string("7")), Holding::open(file, std::string("7")));
  CHECK(d.identical());
  // Everything the office holds against it: refused by name, not a false difference.
  CHECK_THROWS_WITH(diff(Holding::open(n.hq.path), Holding::open(file)), Catch::Contains("fingerprints of different scopes"));
  CHECK_THROWS_WITH(Holding::open(file, std::string("8")), Catch::Contains("--scope '7'"));
  // A bundle for one scope shows only that scope's chains (and the shared ones).
  const std::string bundle = n.dir.file("all.ferry");
  test::export_all(n.hq, bundle);
  for (const auto& c : Holding::open(bundle, std::string("8")).chains)
    CHECK(c.device != log::chain_id(n.hq.engine.device_id(), "7"));
}
