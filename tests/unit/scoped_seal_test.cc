// Sealing a scoped table (bundle_format/format4.md §12.1–12.2): each change
// becomes an operation of this device's chain of the row's scope, a change of
// scope a move, a row whose expression gives no scope is held, and each
// chain's Lamport times and deps stay within its scope and the shared one.
#include <catch2/catch.hpp>

#include "capture/scope.h"
#include "ferry/error.h"
#include "log/codec.h"
#include "log/stored_chains.h"
#include "session/session.h"
#include "support/scoped.h"
#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema =
    "CREATE TABLE visits(id INTEGER PRIMARY KEY, note TEXT, clinic);"
    "CREATE TABLE drugs(id INTEGER PRIMARY KEY, name TEXT)";

// Tracks visits with scope `expression`, as `ferry track --scope` will.
void track_scoped(test::Replica& r, const std::string& expression) {
  sql::Database db(r.path, sql::Database::Mode::open);
  sql::Transaction tx(db);
  session::Session s(db, r.engine.device_id());
  capture::TrackedTable t = capture::introspect(db, "visits");
  capture::check_scope_expression(db, t, expression);
  t.scope = expression;
  s.tables.track(t);
  s.finish();
  tx.commit();
}

struct Sealed {
  std::string scope;
  std::uint64_t seq, lamport;
  OpKind kind;
  std::string table;
  std::vector<std::string> deps;  // "scope:seq" of each chain named, device aside.
};

// Every operation of this device's chains in the log, by chain, with its chain's scope.
std::vector<Sealed> sealed_here(test::Replica& r) {
  sql::Database db(r.path, sql::Database::Mode::open);
  replica::Devices devices(db);
  log::StoredChains chains(devices);
  std::vector<Sealed> out;
  auto st = db.prepare("SELECT body FROM ferry_log ORDER BY id");
  while (st.step()) {
    const Operation op = log::decode(st.blob_view(0), "log", log::kNewestOperationFormat);
    if (chains.name(op.origin).device != r.engine.device_id()) continue;
    Sealed s{op.scope, op.seq, op.lamport, op.kind, op.table, {}};
    for (const auto& [chain, seq] : op.clock.entries()) s.deps.push_back(chains.name(chain).scope + ":" + std::to_string(seq));
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("each row of a scoped table is sealed in its scope's chain, and a change of scope is a move",
          "[capture][scope]") {
  test::TempDir dir;
  test::Replica r(dir, "clinic", kSchema);
  track_scoped(r, "clinic");
  r.engine.track("drugs");
  r.sql("INSERT INTO visits VALUES(1, 'seen', 7), (2, 'seen', 'north')");
  r.sql("INSERT INTO drugs VALUES(1, 'aspirin')");
  r.engine.seal();
  r.sql("UPDATE visits SET note = 'better' WHERE id = 1");  // In its scope: an update.
  r.sql("UPDATE visits SET clinic = 8 WHERE id = 1");       // A move: out of 7, into 8.
  r.sql("DELETE FROM visits WHERE id = 2");
  r.engine.seal();
  const auto ops = sealed_here(r);  // By chain, each in seq order.
  std::string chains;
  for (const auto& op : ops)
    chains += op.scope + "#" + std::to_string(op.seq) + " " + to_string(op.kind) + " " + op.table + " L" +
              std::to_string(op.lamport) + (op.deps.empty() ? "" : " after") + (op.deps.empty() ? "" : " " + op.deps[0]) + "\n";
  // The device's shared chain holds the drug; clinic 7's, north's and 8's begin at 1 each. Lamport
  // times run per scope, past the shared scope's: 8's first is past the drug's 1; deps name only
  // the chain's own scope and the shared one (the drug, sealed after clinic 7's first).
  CHECK(chains ==
        "#1 insert drugs L1\n"
        "7#1 insert visits L1\n"
        "7#2 update visits L2 after :1\n"
        "7#3 delete visits L3\n"
        "north#1 insert visits L1\n"
        "north#2 delete visits L2 after :1\n"
        "8#1 insert visits L2 after :1\n");
  CHECK(r.dump("visits") == "1|'better'|8\n");
  CHECK(r.engine.verify().ok);  // Every chain links and ends where its head says.
}

TEST_CASE("a row whose scope expression gives no scope is held, named, and sealed once it gives one",
          "[capture][scope]") {
  test::TempDir dir;
  test::Replica r(dir, "clinic", kSchema);
  track_scoped(r, "clinic");
  r.sql("INSERT INTO visits VALUES(1, 'seen', NULL), (2, 'seen', 2.5), (3, 'seen', '*'), (4, 'seen', '')");
  r.engine.seal();
  const auto held = r.engine.status().held;
  REQUIRE(held.size() == 4);
  CHECK_THAT(held[0].reason, Catch::Contains("NULL") && Catch::Contains("clinic"));
  CHECK_THAT(held[1].reason, Catch::Contains("REAL"));
  CHECK_THAT(held[2].reason, Catch::Contains("reserved"));
  CHECK_THAT(held[3].reason, Catch::Contains("empty"));
  CHECK(sealed_here(r).empty());
  r.sql("UPDATE visits SET clinic = 'south'");
  r.engine.seal();
  CHECK(r.engine.status().held.empty());
  const auto ops = sealed_here(r);
  REQUIRE(ops.size() == 4);
  for (const auto& op : ops) CHECK((op.scope == "south" && op.kind == OpKind::insert));
}

TEST_CASE("a scope expression is a deterministic expression over the row's own columns", "[capture][scope]") {
  test::TempDir dir;
  test::Replica r(dir, "clinic", kSchema);
  sql::Database db(r.path, sql::Database::Mode::open);
  const capture::TrackedTable t = capture::introspect(db, "visits");
  CHECK_NOTHROW(capture::check_scope_expression(db, t, "clinic"));
  CHECK_NOTHROW(capture::check_scope_expression(db, t, "'region-' || (id % 4)"));
  CHECK_THROWS_WITH(capture::check_scope_expression(db, t, "random()"), Catch::Contains("non-deterministic"));
  CHECK_THROWS_WITH(capture::check_scope_expression(db, t, "(SELECT name FROM drugs)"),
                    Catch::Contains("cannot be the scope of table 'visits'"));
  CHECK_THROWS_WITH(capture::check_scope_expression(db, t, "ward"), Catch::Contains("no such column"));
  CHECK_THROWS_AS(capture::check_scope_expression(db, t, ""), Error);
  CHECK(test::count(r.path, "SELECT count(*) FROM sqlite_temp_schema") == 0);  // The probe leaves nothing.
}

TEST_CASE("a change sealed where another scope's state of the row wins leaves the table showing that state, and "
          "nothing of ferry's writing is captured",
          "[capture][scope]") {
  test::TempDir dir;
  test::Replica r(dir, "clinic", kSchema);
  track_scoped(r, "clinic");
  // Two devices put row 1 in clinics 7 and 9 at once; clinic 9's, at the greater Lamport time, is shown.
  const DeviceId a = test::counting_id(0x10), b = test::counting_id(0x20);
  test::ScopedWriter others;
  others.write(a, "7", 5, OpKind::insert, 1, {{"note", Value::text("a's")}, {"clinic", Value::text("7")}});
  others.write(b, "9", 50, OpKind::insert, 1, {{"note", Value::text("b's")}, {"clinic", Value::text("9")}});
  CHECK(test::deliver(r, others.made(), others.names()) == 2);
  CHECK(r.dump("visits") == "1|'b''s'|'9'\n");
  // This device moves it to clinic 8: out of 9, which it saw, into 8 at Lamport time 1; clinic 7's state,
  // at 5, which the move did not touch, now wins, and the table shows it.
  r.sql("UPDATE visits SET clinic = '8', note = 'mine' WHERE id = 1");
  r.engine.seal();
  CHECK(r.dump("visits") == "1|'a''s'|'7'\n");
  const auto ops = sealed_here(r);
  REQUIRE(ops.size() == 2);  // The move's two halves, and no change of ferry's own making.
  CHECK(r.engine.seal() == 0);
  CHECK(test::count(r.path, "SELECT count(*) FROM ferry_capture") == 0);
  // The row lives in clinics 7 and 8: a scope conflict, clinic 7's shown. Keeping the loser, this
  // device's clinic 8, deletes the row from clinic 7, and the table shows clinic 8's.
  const auto conflicts = r.engine.conflicts();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].kind == "scope");
  CHECK(conflicts[0].winner.scope == "7");
  CHECK(conflicts[0].loser.scope == "8");
  const Operation resolution = r.engine.resolve(conflicts[0].id, Keep::loser);
  CHECK((resolution.scope == "7" && resolution.kind == OpKind::remove));
  CHECK(r.dump("visits") == "1|'mine'|'8'\n");
  CHECK(r.engine.conflicts().empty());
  CHECK(r.engine.seal() == 0);  // The table's rewrite was ferry's, not a change.
}
