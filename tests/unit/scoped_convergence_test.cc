// Convergence with scopes (bundle_format/format4.md §12.1–12.2), before
// bundles carry them: three devices write a scoped table and a shared one at
// random -- inserts, edits, deletes and moves between three clinics -- seal,
// and hand each other what the other lacks, in a causal order, at random
// moments. Once everyone has everything, every device holds the same rows and
// the same open conflicts, whatever the order things arrived in.
//
// Every choice comes from one seed per scenario; a failure prints it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "capture/scope.h"
#include "session/session.h"
#include "support/scoped.h"
#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema =
    "CREATE TABLE visits(id INTEGER PRIMARY KEY, note TEXT, clinic TEXT);"
    "CREATE TABLE drugs(id INTEGER PRIMARY KEY, name TEXT)";
const char* const kClinics[] = {"north", "south", "7"};

void track_scoped(test::Replica& r) {
  sql::Database db(r.path, sql::Database::Mode::open);
  sql::Transaction tx(db);
  session::Session s(db, r.engine.device_id());
  capture::TrackedTable t = capture::introspect(db, "visits");
  t.scope = "clinic";
  capture::check_scope_expression(db, t, t.scope);
  s.tables.track(t);
  s.finish();
  tx.commit();
  r.engine.track("drugs");
}

// Hands `to` every operation `from` holds that it lacks, in (Lamport time,
// chain) order: a causal order, since an operation's Lamport time is past
// that of everything in its scope and the shared one that it follows.
void hand_over(test::Replica& from, test::Replica& to) {
  log::KnownChains names;
  std::vector<test::Carried> ops = test::log_of(from, names);
  std::sort(ops.begin(), ops.end(), [](const test::Carried& a, const test::Carried& b) {
    return a.op.lamport != b.op.lamport ? a.op.lamport < b.op.lamport : a.op.origin < b.op.origin;
  });
  (void)test::deliver(to, ops, names);
}

// One random change by `r`: an insert, an edit, a move to another clinic, a
// delete, or a change to the shared table.
void change(test::Replica& r, std::mt19937& rng, int& next_id) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::string id = std::to_string(1 + pick(std::max(next_id - 1, 1)));
  const std::string clinic = kClinics[pick(3)];
  switch (pick(6)) {
    case 0:
    case 1:
      r.sql("INSERT OR IGNORE INTO visits VALUES(" + std::to_string(next_id++) + ", 'new', '" + clinic + "')");
      break;
    case 2: r.sql("UPDATE visits SET note = 'edit " + std::to_string(pick(1000)) + "' WHERE id = " + id); break;
    case 3: r.sql("UPDATE visits SET clinic = '" + clinic + "', note = 'moved' WHERE id = " + id); break;
    case 4: r.sql("DELETE FROM visits WHERE id = " + id); break;
    default: r.sql("INSERT INTO drugs VALUES(" + id + ", 'drug " + std::to_string(pick(9)) + "') "
                   "ON CONFLICT(id) DO UPDATE SET name = excluded.name");
  }
}

std::string seen(test::Replica& r) {
  std::string out = r.dump("visits") + r.dump("drugs");
  std::vector<std::string> conflicts;
  for (const auto& c : r.engine.conflicts())
    conflicts.push_back(c.table + " " + c.column + " " + c.winner.origin.to_string() + ":" +
                        std::to_string(c.winner.seq) + "/" + c.loser.origin.to_string() + ":" + std::to_string(c.loser.seq));
  std::sort(conflicts.begin(), conflicts.end());
  for (const auto& c : conflicts) out += c + "\n";
  return out;
}

}  // namespace

TEST_CASE("devices writing scoped rows converge, moves and concurrent edits included, in any order of arrival",
          "[scope][convergence]") {
  std::size_t moved_rows_seen = 0;
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    test::TempDir dir;
    std::vector<std::unique_ptr<test::Replica>> devices;
    for (int i = 0; i < 3; ++i) {
      devices.push_back(std::make_unique<test::Replica>(dir, "d" + std::to_string(i), kSchema));
      track_scoped(*devices.back());
    }
    int next_id = 1;
    for (int round = 0; round < 10; ++round) {
      test::Replica& writer = *devices[rng() % 3];
      for (unsigned n = 1 + rng() % 3; n > 0; --n) change(writer, rng, next_id);
      writer.engine.seal();
      if (rng() % 2 == 0) hand_over(*devices[rng() % 3], *devices[rng() % 3]);
    }
    for (int pass = 0; pass < 2; ++pass)  // Everyone to everyone, twice: all of it reaches all.
      for (auto& from : devices)
        for (auto& to : devices)
          if (from != to) hand_over(*from, *to);
    const std::string first = seen(*devices[0]);
    for (int i = 1; i < 3; ++i) CHECK(seen(*devices[static_cast<std::size_t>(i)]) == first);
    for (auto& d : devices) CHECK(d->engine.verify().ok);
    moved_rows_seen += test::count(devices[0]->path, "SELECT count(*) FROM visits WHERE note = 'moved'");
  }
  CHECK(moved_rows_seen > 0);  // Moves were among what converged.
}
