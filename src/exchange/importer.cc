#include "exchange/importer.h"

#include <cstring>
#include <map>

#include "exchange/pending.h"
#include "ferry/error.h"
#include "log/chain.h"
#include "log/codec.h"
#include "merge/rules.h"

namespace ferry::exchange {
namespace {

// `other` (with `other_body`, empty if the bundle does not hold it) arrived
// where this database holds `held`: two histories of one device.
[[noreturn]] void forked(const std::string& where, const DeviceId& device, std::uint64_t seq, const Hash& held,
                         const Hash& other, std::string_view other_body) {
  throw Fork(where + ": operation " + std::to_string(seq) + " of device " + device.to_string() +
                 " differs from the operation with the same number already held here: the device's history has forked "
                 "(was its database copied to another machine?). Nothing was imported; both operations are kept as "
                 "evidence and the device is flagged (`ferry status`).",
             device, seq, held, other, other_body);
}

}  // namespace

Importer::Importer(session::Session& session, std::string where)
    : s_(session),
      where_(std::move(where)),
      find_pending_(session.db.prepare("SELECT hash FROM ferry_pending WHERE origin=? AND seq=?", true)),
      add_pending_(session.db.prepare("INSERT INTO ferry_pending(origin, seq, hash, body) VALUES(?, ?, ?, ?)", true)) {
  exchange::keep_pending_count(session.db);
  auto any = session.db.prepare("SELECT EXISTS(SELECT 1 FROM ferry_pending)");
  any.step();
  may_be_pending_ = any.integer(0) != 0;
}

void Importer::check_held(const replica::Device& d, std::uint64_t seq, const Hash& hash, std::string_view body) const {
  const auto held = s_.log.hash(d.id, seq);
  if (held == hash) return;                              // The same operation.
  if (seq == d.base_seq && s_.devices.base_hash(d) == hash) return;  // A snapshot's base itself.
  if (!held && seq < d.base_seq) return;                 // Below the base: vouched for by it, not kept.
  forked(where_, d.id, seq, held.value_or(s_.devices.base_hash(d)), hash, body);
}

bool Importer::in_admin_history(const Operation& op) const {
  const DeviceId& admin = *s_.fleet.administrator();
  const replica::Device* d = s_.devices.find(admin);
  const std::uint64_t head = d == nullptr ? 0 : d->head_seq;
  if (head > 0 && s_.log.clock_entry(admin, head, op.origin) >= op.seq) return true;
  exchange::PendingReader pending(s_.db);
  const auto next = pending.first(admin);
  return next && next->op.seq == head + 1 && next->op.clock.get(op.origin) >= op.seq;
}

bool Importer::readable(const std::string& scope) const {
  if (readable_at_ != s_.fleet.grants_noted()) readable_.clear(), readable_at_ = s_.fleet.grants_noted();
  auto it = readable_.find(scope);
  if (it == readable_.end()) it = readable_.emplace(scope, s_.fleet.may_read(s_.self, scope)).first;
  return it->second;
}

bool Importer::ready(const Operation& op) const {
  if (!op.scope.empty() && !readable(op.scope)) return false;
  if (s_.fleet.waits(op) && !in_admin_history(op)) return false;
  for (const auto& [device, seq] : op.clock.entries()) {
    if (device == op.origin) continue;
    const replica::Device* d = s_.devices.find(device);
    if (d == nullptr || d->head_seq < seq) return false;
  }
  return true;
}

std::string Importer::impossible(const Operation& op) const {
  if (op.format < 2) return {};  // Bounded by the bundle's reader, from the whole clock it carries.
  const auto what = [&] { return "operation " + std::to_string(op.seq) + " of device " + op.origin.to_string(); };
  // A scope's operation follows only its scope's and the shared scope's (format4.md §12.9).
  const std::uint64_t greatest = op.scope.empty() ? s_.lamport : std::max(s_.lamport, s_.scope_lamports.get(op.scope));
  if (op.lamport > greatest + 1)
    return what() + " has Lamport time " + std::to_string(op.lamport) + ", more than one past " +
           std::to_string(greatest) + ", the greatest of the operations it follows (all held here): no device "
           "could have sealed it";
  for (const auto& [device, seq] : op.clock.entries()) {
    const std::uint64_t before = s_.log.clock_entry(op.origin, op.seq - 1, device);
    if (seq <= before)
      return what() + " says it newly follows operation " + std::to_string(seq) + " of device " + device.to_string() +
             ", but the operation before it in its chain already followed operation " + std::to_string(before);
  }
  return {};
}

bool Importer::added_here(const Operation& op) const {
  auto it = added_.find(op.origin);
  if (it == added_.end()) return false;
  for (const auto& [first, last] : it->second)
    if (op.seq >= first && op.seq <= last) return true;
  return false;
}

void Importer::apply(const Operation& op, std::string_view body, const Hash& hash) {
  if (std::string why = impossible(op); !why.empty()) throw Error(Errc::corrupt, where_ + ": " + why);
  if (std::string why = s_.fleet.forbidden(op, writer_of(op), s_.log); !why.empty())
    throw Error(Errc::untrusted, where_ + ": " + why + ". Nothing was imported.");
  replica::Device& d = s_.devices.ensure(op.origin);
  if (const Hash& head = s_.devices.head_hash(d); op.prev_hash != head) forked(where_, op.origin, op.seq - 1, head, op.prev_hash, {});
  s_.log.append(op, body);
  s_.devices.move_head(d, op.seq, hash);
  raise_lamport(op);
  s_.fleet.note(op);
  s_.merger.apply(op, /*write_table=*/true);
  ++summary_.applied;
}

void Importer::raise_lamport(const Operation& op) {
  if (!op.scope.empty()) return s_.scope_lamports.raise(op.scope, op.lamport);
  if (op.lamport > s_.lamport) s_.lamport = op.lamport;
}

DeviceId Importer::writer_of(const Operation& op) const {
  if (!log::is_scoped_chain(op.origin)) return op.origin;
  const replica::Device* chain = s_.devices.find(op.origin);
  if (chain == nullptr) throw Error(Errc::internal, "a chain of a scope not named before its operations");
  return s_.devices.name_of(*chain).first->id;
}

void Importer::apply_from_snapshot(const Operation& op) {
  raise_lamport(op);
  s_.fleet.note(op);  // A snapshot carries every grant as made, in the administrator's order.
  s_.merger.apply(op, /*write_table=*/true);
  ++summary_.applied;
}

void Importer::offer(const Operation& op, std::string_view body, const Hash& hash) {
  replica::Device& d = s_.devices.ensure(op.origin);
  if (op.seq <= d.head_seq) {
    check_held(d, op.seq, hash, body);
    ++summary_.duplicates;
    return;
  }
  bool pending = false;
  Bytes held;
  if (may_be_pending_) {
    find_pending_.bind_blob_view(1, op.origin.bytes.data(), 16).bind(2, static_cast<std::int64_t>(op.seq));
    pending = find_pending_.step();
    if (pending) held = find_pending_.blob(0);
    find_pending_.reset();
  }
  if (pending) {
    if (held.size() != hash.size() || std::memcmp(held.data(), hash.data(), hash.size()) != 0) {
      Hash held_hash{};
      if (held.size() == held_hash.size()) std::memcpy(held_hash.data(), held.data(), held.size());
      forked(where_, op.origin, op.seq, held_hash, hash, body);
    }
    ++summary_.duplicates;
    return;
  }
  if (op.seq == d.head_seq + 1 && ready(op)) {
    apply(op, body, hash);
    return;
  }
  add_pending_.bind_blob_view(1, op.origin.bytes.data(), 16)
      .bind(2, static_cast<std::int64_t>(op.seq))
      .bind_blob_view(3, hash.data(), hash.size())
      .bind_blob_view(4, body.data(), body.size());
  add_pending_.run();
  may_be_pending_ = true;
  auto& runs = added_[op.origin];
  if (!runs.empty() && runs.back().second + 1 == op.seq)
    runs.back().second = op.seq;
  else
    runs.emplace_back(op.seq, op.seq);
}

void Importer::drain() {
  if (!may_be_pending_) {  // Nothing was pending, and this import added nothing.
    summary_.pending = 0;
    return;
  }
  // Only a device's first pending operation can be next: one candidate per
  // device, looked up by key, so memory and time follow the devices and the
  // operations applied, never the size of the pending set.
  std::map<DeviceId, exchange::PendingOperation> next;
  exchange::PendingReader pending(s_.db);
  auto remove = s_.db.prepare("DELETE FROM ferry_pending WHERE origin=? AND seq=?");
  auto take = [&](const DeviceId& device, std::uint64_t seq) {
    remove.bind_blob(1, device.bytes.data(), 16).bind(2, static_cast<std::int64_t>(seq));
    remove.run();
  };
  // Loads `device`'s candidate, first settling entries that arrived since by
  // another route or that a snapshot's base now covers.
  auto load = [&](const DeviceId& device) {
    next.erase(device);
    for (;;) {
      auto first = pending.first(device);
      if (!first) return;
      const replica::Device* d = s_.devices.find(device);
      if (d == nullptr || first->op.seq > d->head_seq) {
        next.emplace(device, std::move(*first));
        return;
      }
      check_held(*d, first->op.seq, first->hash, first->body);
      take(device, first->op.seq);
    }
  };
  for (const DeviceId& device : pending.devices()) load(device);
  for (;;) {
    const exchange::PendingOperation* best = nullptr;
    for (const auto& [device, candidate] : next) {
      const replica::Device* d = s_.devices.find(device);
      const std::uint64_t head = d ? d->head_seq : 0;
      if (candidate.op.seq != head + 1 || !ready(candidate.op)) continue;
      if (best == nullptr || merge::causal_less(candidate.op, best->op)) best = &candidate;
    }
    if (best == nullptr) break;
    const DeviceId origin = best->op.origin;
    std::string why = impossible(best->op);
    if (why.empty()) why = s_.fleet.forbidden(best->op, writer_of(best->op), s_.log);
    if (!why.empty() && !added_here(best->op)) {
      summary_.discarded.push_back("discarded from the pending operations: " + why);
      take(origin, best->op.seq);
      load(origin);
      continue;
    }
    apply(best->op, best->body, best->hash);
    take(origin, best->op.seq);
    load(origin);
  }
  summary_.pending = exchange::count_pending(s_.db);
}

}  // namespace ferry::exchange
