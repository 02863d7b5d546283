#include "identity/forget.h"

#include <algorithm>

#include "log/codec.h"
#include "log/peer_clocks.h"
#include "log/store.h"
#include "merge/causality.h"
#include "merge/rules.h"
#include "replica/meta.h"
#include "trust/store.h"

namespace ferry::identity {
namespace {

// Step 1's first half: the rows the chain wrote, into temp.ferry_forget_rows.
std::uint64_t collect_rows(session::Session& s, const replica::Device& d) {
  sql::Database& db = s.db;
  db.exec("CREATE TEMP TABLE ferry_forget_rows(tbl TEXT NOT NULL, pk BLOB NOT NULL, PRIMARY KEY(tbl, pk)) WITHOUT ROWID");
  auto add = db.prepare("INSERT OR IGNORE INTO temp.ferry_forget_rows(tbl, pk) VALUES(?, ?)");
  std::uint64_t count = 0;
  auto note = [&](std::string_view body) {
    const Operation op = log::decode(body, db.path() + ": log", log::kNewestOperationFormat);
    const std::string pk = log::encode_values(op.key);
    add.bind(1, op.table).bind_blob(2, pk.data(), pk.size());
    add.run();
    ++count;
  };
  log::for_each_in_chain(db, d.no, 1, d.head_seq, [&](std::uint64_t, std::string_view body) { note(body); });
  log::for_each_in_base(db, d.id, note);
  return count;
}

// What the operations left say about the chain and about time.
struct Left {
  std::uint64_t followers = 0;  // Operations whose whole clocks name the chain,
  std::uint64_t followed = 0;   // the greatest number they name,
  std::uint64_t lamport = 0;    // the greatest Lamport time of all.
};

// Step 2's input: every operation left that wrote one of those rows, into
// temp.ferry_forget_ops.
Left collect_operations(session::Session& s, const DeviceId& device) {
  sql::Database& db = s.db;
  db.exec("CREATE TEMP TABLE ferry_forget_ops(tbl TEXT NOT NULL, pk BLOB NOT NULL, lamport INTEGER NOT NULL, "
          "origin BLOB NOT NULL, body BLOB NOT NULL)");
  auto wrote = db.prepare("SELECT 1 FROM temp.ferry_forget_rows WHERE tbl=? AND pk=?");
  auto add = db.prepare("INSERT INTO temp.ferry_forget_ops(tbl, pk, lamport, origin, body) VALUES(?, ?, ?, ?, ?)");
  Left left;
  const merge::Causality causality(s.log);
  log::for_each_held(db, [&](std::string_view body) {
    const Operation op = log::decode(body, db.path() + ": log", log::kNewestOperationFormat);
    const std::uint64_t named = causality.seen(op, device);
    if (named > 0) ++left.followers;
    left.followed = std::max(left.followed, named);
    left.lamport = std::max(left.lamport, op.lamport);
    const std::string pk = log::encode_values(op.key);
    wrote.bind(1, op.table).bind_blob(2, pk.data(), pk.size());
    const bool affected = wrote.step();
    wrote.reset();
    if (!affected) return;
    add.bind(1, op.table).bind_blob(2, pk.data(), pk.size()).bind(3, static_cast<std::int64_t>(op.lamport))
        .bind_blob(4, op.origin.bytes.data(), 16).bind_blob_view(5, body.data(), body.size());
    add.run();
  });
  db.exec("CREATE INDEX temp.ferry_forget_ops_row ON ferry_forget_ops(tbl, pk, lamport, origin)");
  return left;
}

// Step 2: each row rebuilt from what is left, one row in memory at a time.
std::uint64_t rebuild_rows(session::Session& s) {
  sql::Database& db = s.db;
  auto rows = db.prepare("SELECT tbl, pk FROM temp.ferry_forget_rows ORDER BY tbl, pk");
  auto ops = db.prepare(std::string("SELECT body FROM temp.ferry_forget_ops WHERE tbl=? AND pk=? ORDER BY ") +
                        merge::kCausalOrderSql);
  std::uint64_t count = 0;
  s.tables.suspend_triggers();  // The rows written here are not changes of this database's own.
  while (rows.step()) {
    const capture::TrackedTable* t = s.tables.find(rows.text(0));
    if (t == nullptr) continue;
    const std::vector<Value> key = log::decode_values(rows.blob_view(1), db.path() + ": log");
    std::vector<Operation> left;
    ops.bind(1, t->name).bind_blob_view(2, rows.blob_view(1).data(), rows.blob_view(1).size());
    while (ops.step())
      left.push_back(log::decode(ops.blob_view(0), db.path() + ": log", log::kNewestOperationFormat));
    ops.reset();
    s.merger.rebuild(*t, key, left);
    ++count;
  }
  s.tables.restore_triggers();
  return count;
}

}  // namespace

TrustAdded forget_chain(session::Session& s, const DeviceId& device) {
  sql::Database& db = s.db;
  replica::Device& d = s.devices.ensure(device);
  TrustAdded r;
  r.forgotten_up_to = d.head_seq;
  db.exec("DROP TABLE IF EXISTS temp.ferry_forget_rows; DROP TABLE IF EXISTS temp.ferry_forget_ops");
  r.forgotten = collect_rows(s, d);

  // Step 1.
  log::remove(db, d.no, 1, d.head_seq);
  log::remove_base(db, device, d.no);
  trust::Store(db).drop_forks(device);
  s.devices.drop_chain(d);

  // Step 2. The Lamport time goes back to what the operations left reached: the
  // next one made here must stay within the operations its clock names (§6).
  const Left left = collect_operations(s, device);
  r.followers = left.followers;
  r.followed_up_to = left.followed;
  s.lamport = left.lamport;
  r.rows = rebuild_rows(s);
  db.exec("DROP TABLE temp.ferry_forget_rows; DROP TABLE temp.ferry_forget_ops");

  // Steps 3 and 4.
  log::forget_in_stored_clocks(db, s.devices, device);
  const auto before = replica::forgotten(db);
  const auto was = before.find(device);
  const std::uint64_t up_to = std::max(was == before.end() ? 0 : was->second, left.followed);
  if (up_to > 0) {
    replica::set_forgotten(db, device, up_to);
    s.merger.expect_late(d.no, up_to);
    s.writer.claim(device, up_to);
  }
  return r;
}

}  // namespace ferry::identity
