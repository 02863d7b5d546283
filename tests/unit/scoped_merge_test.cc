// Merge state per scope (bundle_format/format4.md §12.1–12.2): each scope's
// state of a row merges from that scope's operations alone, and the table
// shows the state in which the row exists whose existence winner wins; a row
// moved between scopes is a delete in one and an insert in the other, in
// chains that do not depend on each other, so any order of applying them
// gives the same rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "log/codec.h"
#include "support/scoped.h"
#include "support/support.h"
#include "util/uuid.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE visits(id INTEGER PRIMARY KEY, note TEXT, clinic TEXT)";
const DeviceId a = test::counting_id(0x10), b = test::counting_id(0x20);

std::vector<ColumnValue> visit(const std::string& note, const std::string& clinic) {
  return {{"note", Value::text(note)}, {"clinic", Value::text(clinic)}};
}

struct Applied {
  std::string rows;
  std::string conflicts;  // "kind column winner-seq/loser-seq" per open conflict ("-": the row's existence).
  bool operator==(const std::string& only_rows) const { return rows == only_rows && conflicts.empty(); }
};

// Applies the operations of `w` in the order `order` gives (indexes), as an
// import does, into a fresh replica, and returns its rows and open conflicts.
Applied applied(const test::TempDir& dir, const test::ScopedWriter& w, const std::vector<std::size_t>& order) {
  static int n = 0;
  test::Replica r(dir, "r" + std::to_string(++n), kSchema);
  r.engine.track("visits");
  std::vector<test::Carried> ops;
  for (std::size_t i : order) ops.push_back(w.made()[i]);
  CHECK(test::deliver(r, ops, w.names()) == ops.size());
  std::vector<std::string> conflicts;
  for (const auto& conflict : r.engine.conflicts())
    conflicts.push_back(conflict.kind + " " + (conflict.column.empty() ? "-" : conflict.column) + " " +
                        std::to_string(conflict.winner.seq) + "/" +
                        std::to_string(conflict.loser.seq) + "\n");
  std::sort(conflicts.begin(), conflicts.end());
  Applied out{r.dump("visits"), ""};
  for (const auto& line : conflicts) out.conflicts += line;
  return out;
}

std::ostream& operator<<(std::ostream& os, const Applied& result) { return os << result.rows << result.conflicts; }

// Every order of the operations of `w` (indexes) that is causal: each chain's
// in seq order, each after what its deps name.
std::vector<std::vector<std::size_t>> chain_orders(const test::ScopedWriter& w) {
  std::vector<std::size_t> order(w.made().size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::vector<std::size_t>> out;
  do {
    std::map<DeviceId, std::uint64_t> at;
    bool in_order = true;
    for (std::size_t i : order) {
      const Operation& op = w.made()[i].op;
      in_order = in_order && op.seq == at[op.origin] + 1;
      for (const auto& [chain, seq] : op.clock.entries()) in_order = in_order && at[chain] >= seq;
      at[op.origin] = op.seq;
    }
    if (in_order) out.push_back(order);
  } while (std::next_permutation(order.begin(), order.end()));
  return out;
}

}  // namespace

TEST_CASE("a row moved from one scope to another shows where it went, in whatever order its chains arrive",
          "[merge][scope]") {
  test::TempDir dir;
  test::ScopedWriter w;
  w.write(a, "clinic-7", 1, OpKind::insert, 1, visit("first visit", "clinic-7"));
  w.write(a, "clinic-7", 2, OpKind::update, 1, {{"note", Value::text("referred")}});
  w.write(a, "clinic-7", 3, OpKind::remove, 1, {});  // The move: out of clinic 7 ...
  w.write(a, "clinic-8", 3, OpKind::insert, 1, visit("referred", "clinic-8"));  // ... and into clinic 8.
  const auto orders = chain_orders(w);
  REQUIRE(orders.size() == 4);  // Clinic 8's insert before, between or after clinic 7's three.
  for (const auto& order : orders) {
    INFO(order[0] << order[1] << order[2] << order[3]);
    CHECK(applied(dir, w, order) == "1|'referred'|'clinic-8'\n");
  }
}

TEST_CASE("a row live in two scopes shows the state whose existence winner wins, and no scope's write reaches "
          "another's state",
          "[merge][scope]") {
  test::TempDir dir;
  test::ScopedWriter w;
  w.write(a, "clinic-7", 1, OpKind::insert, 1, visit("seen", "clinic-7"));
  // b, having seen it, moves it to clinic 9 while a, concurrently, moves it to clinic 8.
  w.write(b, "clinic-7", 2, OpKind::remove, 1, {}, {{{a, "clinic-7"}, 1}});
  w.write(b, "clinic-9", 2, OpKind::insert, 1, visit("to nine", "clinic-9"));
  w.write(a, "clinic-7", 2, OpKind::remove, 1, {});
  w.write(a, "clinic-8", 2, OpKind::insert, 1, visit("to eight", "clinic-8"));
  // The same Lamport time in both: the greater chain id wins (README.md §8's order over chains).
  const DeviceId eight = log::chain_id(a, "clinic-8"), nine = log::chain_id(b, "clinic-9");
  const std::string expected = nine < eight ? "1|'to eight'|'clinic-8'\n" : "1|'to nine'|'clinic-9'\n";
  // Then clinic 8 edits its copy: its state still wins or still loses, and clinic 9's is untouched.
  w.write(a, "clinic-8", 3, OpKind::update, 1, {{"note", Value::text("eight, edited")}});
  const std::string edited = nine < eight ? "1|'eight, edited'|'clinic-8'\n" : expected;
  std::size_t checked = 0;
  for (const auto& order : chain_orders(w)) {
    if (checked++ % 7 != 0) continue;  // A sample of the 120 orders.
    const Applied result = applied(dir, w, order);
    CHECK(result.rows == edited);
    // The row lives in two scopes: one scope conflict, the state shown first (each insert is its chain's first).
    CHECK(result.conflicts == "scope - 1/1\n");
  }
  CHECK(checked > 20);
  // Without clinic 8's later edit and with clinic 9's insert last, the winner is shown too.
  test::ScopedWriter v;
  v.write(a, "clinic-8", 5, OpKind::insert, 1, visit("eight", "clinic-8"));
  v.write(b, "clinic-9", 6, OpKind::insert, 1, visit("nine", "clinic-9"));
  for (const auto& order : std::vector<std::vector<std::size_t>>{{0, 1}, {1, 0}}) {
    const Applied result = applied(dir, v, order);
    CHECK(result.rows == "1|'nine'|'clinic-9'\n");
    CHECK(result.conflicts == "scope - 1/1\n");
  }
  // And when the state shown goes, the other one comes back, every column from its own operations, and the
  // conflict closes: the row lives in one scope again.
  v.write(b, "clinic-9", 7, OpKind::remove, 1, {});
  CHECK(applied(dir, v, {0, 1, 2}) == "1|'eight'|'clinic-8'\n");
  CHECK(applied(dir, v, {1, 2, 0}) == "1|'eight'|'clinic-8'\n");
}

TEST_CASE("a conflict in one scope's state stays open whatever another scope's state settles for the same key",
          "[merge][scope]") {
  test::TempDir dir;
  test::ScopedWriter w;
  w.write(a, "clinic-7", 1, OpKind::insert, 1, visit("seen", "clinic-7"));
  w.write(a, "clinic-7", 2, OpKind::update, 1, {{"note", Value::text("a's note")}});
  w.write(b, "clinic-7", 3, OpKind::update, 1, {{"note", Value::text("b's note")}}, {{{a, "clinic-7"}, 1}});
  // Clinic 8 holds the same key, with a conflict of its own on the same column.
  w.write(a, "clinic-8", 3, OpKind::insert, 1, visit("other", "clinic-8"));
  w.write(a, "clinic-8", 4, OpKind::update, 1, {{"note", Value::text("a's 8")}});
  w.write(b, "clinic-8", 5, OpKind::update, 1, {{"note", Value::text("b's 8")}}, {{{a, "clinic-8"}, 1}});
  for (const auto& order : std::vector<std::vector<std::size_t>>{{0, 1, 2, 3, 4, 5}, {3, 4, 5, 0, 1, 2}, {0, 3, 1, 4, 2, 5}}) {
    INFO(order[0] << order[1] << order[2] << order[3] << order[4] << order[5]);
    const Applied result = applied(dir, w, order);
    CHECK(result.rows == "1|'b''s 8'|'clinic-8'\n");  // Clinic 8's state: its existence at Lamport 3, over 1.
    // One in each scope's state, both open, beside the row's living in both.
    CHECK(result.conflicts == "scope - 1/1\nvalue note 1/2\nvalue note 1/2\n");
  }
}
