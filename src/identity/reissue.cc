#include "identity/reissue.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "capture/tables.h"
#include "ferry/error.h"
#include "log/codec.h"
#include "log/peer_clocks.h"
#include "log/store.h"
#include "log/stored_chains.h"
#include "merge/conflicts.h"
#include "merge/row_store.h"
#include "replica/devices.h"
#include "replica/meta.h"
#include "util/uuid.h"

namespace ferry::identity {
namespace {

// The whole clock of `op` made again as operation `seq` of `now`: the old
// identity only as far as it is kept, the rest of its past unchanged.
VectorClock moved_clock(const VectorClock& clock, const DeviceId& old_id, std::uint64_t keep, const DeviceId& now,
                        std::uint64_t seq) {
  VectorClock out;
  for (const auto& [device, n] : clock.entries())
    if (device != old_id && n > 0) out.set(device, n);
  if (keep > 0) out.set(old_id, std::min(keep, clock.get(old_id)));
  out.set(now, seq);
  return out;
}

// What `made`, moved from `op`, carries as its clock. Format 1 carries the
// whole clock. Format 2 carries what grew since the operation before it in its
// chain; the moved chain's entries for the old and new identities do not
// count there, so an operation after the first moved one carries what it
// carried before. The first moved one starts a chain: its deps are its whole
// clock, read from the causal index at the operation before it (`keep`).
VectorClock moved_deps(const Operation& op, const Operation& made, log::Store& log, const replica::Devices& devices,
                       const DeviceId& old_id, std::uint64_t keep) {
  if (op.format == 1) return moved_clock(op.clock, old_id, keep, made.origin, made.seq);
  if (made.seq > 1) return op.clock;
  std::vector<VectorClock::Entry> entries;
  for (const replica::Device& d : devices.all()) {
    if (d.id == old_id || d.id == made.origin) continue;
    const std::uint64_t n = std::max(op.clock.get(d.id), keep == 0 ? 0 : log.clock_entry(old_id, keep, d.id));
    if (n > 0) entries.emplace_back(d.id, n);
  }
  VectorClock whole(std::move(entries));
  if (keep > 0) whole.set(old_id, keep);
  return whole;
}

// A scope's chain follows its device's shared chain; where that chain's
// operations past `kept` were made again under the new identity (numbered from
// 1), what the moved operation follows of them is followed there (whose first
// operation follows the old chain up to `kept`).
VectorClock follow_moved_device(const VectorClock& deps, const ScopeMove& m) {
  VectorClock out;
  for (const auto& [device, n] : deps.entries()) {
    if (device == m.old_device && n > m.kept) {
      out.set(m.new_device, std::max(out.get(m.new_device), n - m.kept));
    } else if (n > 0) {
      out.set(device, std::max(out.get(device), n));
    }
  }
  return out;
}

// The first of `ops` to write each row: every row they wrote, once.
std::vector<const Operation*> rows_written(const std::vector<Operation>& ops) {
  std::set<std::pair<std::string, std::string>> seen;  // (table, encoded key)
  std::vector<const Operation*> out;
  for (const Operation& op : ops)
    if (seen.emplace(op.table, log::encode_values(op.key)).second) out.push_back(&op);
  return out;
}

// Renames the stamps of the moved operations in the merge state of every row they wrote.
void move_stamps(sql::Database& db, const std::vector<Operation>& moved, std::int64_t old_no, std::int64_t new_no,
                 std::uint64_t keep) {
  capture::Registry tables(db);
  merge::RowStore rows(db);
  for (const Operation* op : rows_written(moved)) {
    const capture::TrackedTable* t = tables.find(op->table);
    merge::RowStates states;
    if (t == nullptr || !rows.load(t->no, op->key, states)) continue;
    auto rename = [&](merge::Frontier& f) {
      for (merge::Stamp& s : f)
        if (s.device == old_no && s.seq > keep) s.device = new_no, s.seq -= keep;
    };
    for (merge::RowMeta& meta : states) {
      rename(meta.exist);
      for (auto& [column, frontier] : meta.cols) rename(frontier);
    }
    rows.save(t->no, op->key, states, true);
  }
  rows.flush();
}

}  // namespace

std::uint64_t shared_head(sql::Database& db, const replica::Devices& devices, std::int64_t self_no, const DeviceId& self,
                          std::uint64_t head) {
  // A database from before ferry counted what it sent: all of it may have left.
  std::uint64_t shared = std::max(replica::get_meta_count(db, replica::kSentKey, head), replica::reuse_agreed(db));
  auto peers = db.prepare("SELECT no FROM ferry_devices WHERE no<>?");
  peers.bind(1, self_no);
  while (peers.step()) shared = std::max(shared, log::stored_clock(db, devices, "announced_clock", peers.integer(0)).get(self));
  return std::min(shared, head);
}

void note_sent(sql::Database& db, std::uint64_t seq) {
  if (seq > replica::get_meta_count(db, replica::kSentKey, 0))
    replica::set_meta(db, replica::kSentKey, Value::integer(static_cast<std::int64_t>(seq)));
}

namespace {
std::string sent_key(const DeviceId& chain) { return std::string(replica::kSentKey) + " " + chain.to_string(); }
}  // namespace

void note_sent(sql::Database& db, const DeviceId& chain, std::uint64_t seq) {
  if (seq > replica::get_meta_count(db, sent_key(chain), 0))
    replica::set_meta(db, sent_key(chain), Value::integer(static_cast<std::int64_t>(seq)));
}

std::uint64_t scoped_shared_head(sql::Database& db, const replica::Devices& devices, const replica::Device& chain) {
  std::uint64_t shared = replica::get_meta_count(db, sent_key(chain.id), 0);
  for (const auto& p : log::all_peer_clocks(db, devices)) shared = std::max(shared, p.announced.get(chain.id));
  return std::min(shared, chain.head_seq);
}

std::vector<Operation> reissue_after(sql::Database& db, const DeviceId& old_id, const DeviceId& new_id,
                                     std::uint64_t keep, const ScopeMove* scope) {
  replica::Devices devices(db);
  log::StoredChains names(devices);
  if (scope != nullptr) (void)names.ensure(scope->new_device, scope->scope);  // The new chain, named.
  replica::Device* old = devices.find(old_id);
  replica::Device* now = devices.find(new_id);
  if (old == nullptr || now == nullptr || now->head_seq != 0)
    throw Error(Errc::internal, db.path() + ": operations can move only from a known device to a new one");
  if (old->head_seq <= keep) return {};
  log::Store log(db, devices);
  const Hash keep_hash = keep == 0 ? Hash{} : log.hash(old_id, keep).value_or(Hash{});
  if (keep > 0 && keep_hash == Hash{})
    throw Error(Errc::corrupt, db.path() + ": operation " + std::to_string(keep) + " of this device is missing from "
                                   "the log (`ferry verify` says more); its identity was not changed");

  std::vector<Operation> moved;
  log::for_each_in_chain(db, old->no, keep + 1, old->head_seq, [&](std::uint64_t, std::string_view body) {
    moved.push_back(log::decode(body, db.path() + ": log", log::kNewestOperationFormat));
  });
  if (moved.size() != old->head_seq - keep)
    throw Error(Errc::corrupt, db.path() + ": operations " + std::to_string(keep + 1) + "-" +
                                   std::to_string(old->head_seq) + " of this device are not all in the log (`ferry "
                                   "verify` says more); its identity was not changed");

  // These operations never left, and leave the append-only log only to come
  // back, under the new identity, in this same transaction.
  log::remove(db, old->no, keep + 1, old->head_seq);

  Hash prev{};
  std::uint64_t seq = 0;
  std::vector<Operation> again;
  again.reserve(moved.size());
  for (const Operation& op : moved) {
    Operation& made = again.emplace_back(op);
    made.origin = new_id;
    made.seq = ++seq;
    made.id = util::make_operation_id(op.id.unix_ms(), new_id, seq);
    made.clock = moved_deps(op, made, log, devices, old_id, keep);
    if (scope != nullptr) made.clock = follow_moved_device(made.clock, *scope);
    made.prev_hash = prev;
    const std::string body = log::encode(made, &names);
    prev = log::hash_of(body);
    log.append(made, body);
  }
  log.flush();
  devices.move_head(*old, keep, keep_hash);
  devices.move_head(*now, seq, prev);
  devices.save();

  move_stamps(db, again, old->no, now->no, keep);
  merge::rename_origin(db, old_id, new_id, keep);
  auto heads = db.prepare("DELETE FROM ferry_heads WHERE device=? AND seq>?");
  heads.bind(1, old->no).bind(2, static_cast<std::int64_t>(keep));
  heads.run();
  return again;
}

void resettle(session::Session& s, const std::vector<Operation>& again) {
  if (again.empty()) return;
  s.tables.suspend_triggers();  // The rows written here are not changes of this database's own.
  for (const Operation* op : rows_written(again)) s.merger.resettle(*op);
  s.tables.restore_triggers();
}

}  // namespace ferry::identity
