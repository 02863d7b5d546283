// Bundles written for a device (bundle format 4.1, bundle_format/README.md
// §4): they name it, and when it last announced its clock in a bundle written
// for the exporter, their clock says only what differs from that clock. The
// addressee rebuilds the exporter's whole clock from what it exported then;
// anyone else, or an addressee that no longer keeps that export, believes only
// the entries given, which can make it send something twice and never keeps
// anything from anyone.
#include <catch2/catch.hpp>

#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

// A hub that knows `n` devices, each of which wrote one row, and a device `a`
// that wrote one too, holds all of it and told the hub so; then the hub wrote
// a row after all of theirs (its operation follows all n + 1), and a has it
// and said so too.
struct Fleet {
  test::TempDir dir;
  Replica hub{dir, "hub", kSchema}, a{dir, "a", kSchema}, b{dir, "b", kSchema};
  std::vector<std::unique_ptr<Replica>> others;

  explicit Fleet(int n) {
    for (int i = 0; i < n; ++i) {
      others.push_back(std::make_unique<Replica>(dir, "d" + std::to_string(i), kSchema));
      others.back()->sql("INSERT INTO items VALUES(" + std::to_string(1000 + i) + ", 'one')");
      test::exchange(*others.back(), hub, dir);
    }
    a.sql("INSERT INTO items VALUES(500, 'a''s first')");
    test::exchange(a, hub, dir);
    test::exchange(hub, a, dir);
    hub.sql("INSERT INTO items VALUES(600, 'after all of them')");
    test::exchange(hub, a, dir);
    test::exchange(a, hub, dir);
  }

  VectorClock believed(Replica& by, const Replica& of) {
    for (const PeerInfo& p : by.engine.peers())
      if (p.id == of.engine.device_id()) return p.announced.value_or(VectorClock{});
    return {};
  }

  std::string send(Replica& from, Replica& to) {
    static int n = 0;
    const std::string file = dir.file(from.name + "-for-" + to.name + "-" + std::to_string(++n) + ".ferry");
    ExportOptions options;
    options.peer = to.engine.device_id().to_string();
    from.engine.export_bundle(file, options);
    return file;
  }
};

}  // namespace

TEST_CASE("a bundle for a device that announced its clock to the exporter says only what differs from it",
          "[exchange][addressee]") {
  Fleet f(40);
  f.hub.sql("INSERT INTO items VALUES(1, 'from the hub')");
  const std::string file = f.send(f.hub, f.a);
  const BundleInfo info = inspect_bundle(file);
  CHECK(info.format_major == 4);
  CHECK(info.format_minor == 1);
  REQUIRE(info.addressee == f.a.engine.device_id());
  REQUIRE(info.reference);
  // The hub's own entry grew; a's own is always there. The 40 others are as a said.
  CHECK(info.clock.entries().size() == 2);
  CHECK(info.clock.get(f.hub.engine.device_id()) == 2);
  CHECK(info.clock_dropped.empty());
  CHECK(test::count(file, "SELECT count(*) FROM ferry_chains") == 2);

  CHECK(f.a.engine.import_bundle(file).applied == 1);
  // a rebuilds the hub's whole clock: 42 devices, exactly.
  CHECK(f.believed(f.a, f.hub) == f.hub.engine.clock());
  CHECK(f.believed(f.a, f.hub).entries().size() == 42);

  // The answer is written against it in turn, and the hub too rebuilds a's whole clock.
  f.a.sql("INSERT INTO items VALUES(2, 'from a')");
  const std::string back = f.send(f.a, f.hub);
  const BundleInfo answer = inspect_bundle(back);
  REQUIRE(answer.reference == info.bundle_id);
  CHECK(answer.clock.entries().size() == 2);
  CHECK(f.hub.engine.import_bundle(back).applied == 1);
  CHECK(f.believed(f.hub, f.a) == f.a.engine.clock());
  CHECK(f.hub.dump("items") == f.a.dump("items"));
}

TEST_CASE("a device that no longer keeps the export a bundle is written against believes only what it says, "
          "and catches up",
          "[exchange][addressee]") {
  Fleet f(5);
  f.hub.sql("INSERT INTO items VALUES(1, 'first')");
  const std::string first = f.send(f.hub, f.a);
  f.hub.sql("INSERT INTO items VALUES(2, 'second')");
  const std::string second = f.send(f.hub, f.a);  // The hub keeps only this one.
  (void)f.a.engine.import_bundle(first);           // The second is still in the mail.
  f.a.sql("INSERT INTO items VALUES(3, 'from a')");
  const std::string answer = f.send(f.a, f.hub);
  REQUIRE(inspect_bundle(answer).reference == inspect_bundle(first).bundle_id);
  CHECK(f.hub.engine.import_bundle(answer).applied == 1);
  // The entries given, beside what a said before: no more than a holds, and
  // no longer any one bundle's clock, so the next bundle for a is whole.
  CHECK(f.believed(f.hub, f.a).included_in(f.a.engine.clock()));
  CHECK_FALSE(inspect_bundle(f.send(f.hub, f.a)).reference);

  // Believing less only sends a some operations twice; then the hub knows again.
  (void)f.a.engine.import_bundle(second);
  const auto again = f.a.engine.import_bundle(f.send(f.hub, f.a));
  CHECK(again.duplicates > 0);
  (void)f.hub.engine.import_bundle(f.send(f.a, f.hub));
  CHECK(f.believed(f.hub, f.a) == f.a.engine.clock());
  CHECK(f.hub.dump("items") == f.a.dump("items"));
}

TEST_CASE("a bundle for one device, read by another, tells it only the entries it carries", "[exchange][addressee]") {
  Fleet f(5);
  f.hub.sql("INSERT INTO items VALUES(1, 'for a')");
  const std::string file = f.send(f.hub, f.a);
  REQUIRE(inspect_bundle(file).reference);
  // b never heard of the fleet: what the bundle carries is all it can apply, and it
  // keeps the operations it cannot yet apply pending, as with any relay.
  const auto got = f.b.engine.import_bundle(file);
  CHECK(got.applied + got.pending == 2);  // The hub's row, and a's newest operation as a receipt.
  CHECK(f.believed(f.b, f.hub).included_in(f.hub.engine.clock()));
  CHECK(f.believed(f.b, f.hub).entries().size() == 2);
  // b's answer to the hub is not written against a bundle that was not for b.
  CHECK_FALSE(inspect_bundle(f.send(f.b, f.hub)).reference);
}

TEST_CASE("a bundle written for nobody in particular, or a snapshot, stays 4.0 with its whole clock",
          "[exchange][addressee]") {
  Fleet f(3);
  const std::string all = f.dir.file("all.ferry");
  test::export_all(f.hub, all);
  const BundleInfo info = inspect_bundle(all);
  CHECK(info.format_minor == 0);
  CHECK_FALSE(info.addressee);
  CHECK(info.clock == f.hub.engine.clock());
  ExportOptions snapshot;
  snapshot.snapshot = true;
  f.hub.engine.export_bundle(f.dir.file("snapshot.ferry"), snapshot);
  CHECK(inspect_bundle(f.dir.file("snapshot.ferry")).format_minor == 0);
}
