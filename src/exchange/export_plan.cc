#include "exchange/export_plan.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "bundle/format.h"
#include "exchange/pending.h"
#include "log/chain.h"
#include "log/codec.h"
#include "log/peer_clocks.h"
#include "replica/meta.h"
#include "util/uuid.h"

namespace ferry::exchange {
namespace {

// Every table this device has tracked, as bundles describe them.
std::vector<TableInfo> known_tables(const capture::Registry& tables, sql::Database& db) {
  std::vector<TableInfo> out;
  auto st = db.prepare("SELECT name FROM ferry_tables ORDER BY name");
  while (st.step())
    if (const auto* t = tables.find(st.text(0))) out.push_back(t->info());
  return out;
}

}  // namespace

void sign_ranges(session::Session& s, trust::Store& store, const trust::KeyPair& keys, BundleInfo& info) {
  const trust::Identity self = keys.identity();
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    const SeqRange& r = info.ranges[i];
    const auto [owner, scope] = s.devices.name_of(*s.devices.find(r.device));
    if (owner->id == s.self) {
      info.origin_keys.push_back(self.sign);
      info.head_signatures.push_back(
          keys.sign(bundle::head_message(s.self, std::string(scope), r.last, info.last_hashes[i])));
      continue;
    }
    const auto identity = store.identity(owner->id);
    const auto head = store.signed_head(s.devices.find(r.device)->no, r.last);
    // Only a snapshot can get here without one: its ranges are the heads themselves.
    if (!identity || !head || head->first != r.last)
      throw Error(Errc::refused, "cannot vouch for operation " + std::to_string(r.last) + " of device " +
                                     r.device.to_string() + ": that device's signature of it has not arrived here "
                                     "(later operations of it wait for others). Import the missing bundles "
                                     "(`ferry status` lists them), then export the snapshot again.");
    info.origin_keys.push_back(identity->sign);
    info.head_signatures.push_back(head->second);
  }
}

namespace {

// The receipt: the peer's own newest operation held here (up to a head it
// signed), sent back to it when nothing else of its chain goes; for each of its
// chains (its own, and those of the scopes it reads). A peer that holds another
// operation under that number, or none, is a restored or copied database and
// finds out on import (identity/identity.h); any other peer counts it as a
// duplicate. Returns whether it added one.
bool add_receipt(session::Session& s, trust::Store& store, const replica::Device& peer, BundleInfo& info) {
  const auto head = store.signed_head(peer.no, peer.head_seq);
  if (!head || head->first <= peer.base_seq) return false;  // Nothing signed, or not held here (a snapshot's base).
  const std::uint64_t seq = head->first;
  const auto hash = s.log.hash(peer.id, seq);
  const auto prev = seq == 1 ? Hash{} : seq - 1 == peer.base_seq ? s.devices.base_hash(peer) : s.log.hash(peer.id, seq - 1);
  if (!hash || !prev) return false;
  info.ranges.push_back(SeqRange{peer.id, seq, seq});
  info.prerequisites.push_back(*prev);
  info.last_hashes.push_back(*hash);
  info.operations += 1;
  return true;
}

// How far another device's chain can go out from here, and the hash it ends
// at: up to the newest head that device signed, among the operations the log
// holds and those waiting here right after them (pending: verified against
// that signature when they came). A relay so passes on a chain that waits
// here for a third device's operations; otherwise it would wait downstream
// too, for operations this relay cannot vouch for (a deadlock in a ring of
// carriers). Nothing: no signed head above `from`.
std::optional<std::pair<std::uint64_t, Hash>> relay_end(session::Session& s, trust::Store& store, const replica::Device& d,
                                                         std::uint64_t from) {
  std::uint64_t reach = d.head_seq;
  if (const auto newest = store.signed_head(d.no, log::kMaxCounter); newest && newest->first > reach)
    for_each_pending_run(s.db, d.id, reach, newest->first, false,
                         [&](std::uint64_t seq, std::string_view, std::string_view) { reach = seq; });
  const auto signed_head = store.signed_head(d.no, reach);
  if (!signed_head || signed_head->first <= from) return std::nullopt;
  const std::uint64_t last = signed_head->first;
  if (last == d.head_seq) return std::make_pair(last, s.devices.head_hash(d));
  if (last < d.head_seq) return std::make_pair(last, *s.log.hash(d.id, last));
  Hash hash{};
  for_each_pending_run(s.db, d.id, last - 1, last, false, [&](std::uint64_t, std::string_view stored, std::string_view) {
    if (stored.size() != hash.size())
      throw Error(Errc::corrupt, s.db.path() + ": ferry_pending holds a malformed hash (`ferry verify` says more)");
    std::memcpy(hash.data(), stored.data(), stored.size());
  });
  return std::make_pair(last, hash);
}

}  // namespace

Hash held_hash(session::Session& s, const replica::Device& d, std::uint64_t seq) {
  if (seq <= d.head_seq)
    if (const auto hash = s.log.hash(d.id, seq)) return *hash;
  std::optional<Hash> found;
  if (seq > d.head_seq)
    for_each_pending_run(s.db, d.id, d.head_seq, seq, false, [&](std::uint64_t at, std::string_view stored, std::string_view) {
      if (at == seq && stored.size() == Hash{}.size()) std::memcpy(found.emplace().data(), stored.data(), stored.size());
    });
  if (!found)
    throw Error(Errc::corrupt, s.db.path() + ": operation " + std::to_string(seq) + " of device " + d.id.to_string() +
                                   " is missing from this database (`ferry verify` says more). No bundle was written.");
  return *found;
}

namespace {

// Delta ranges: for every device, what the peer lacks (`has`), up to the last
// signed head (relay_end); for the peer's own chains at least a receipt. In
// device order, as the bundle stores them. Returns the chains of the receipts.
std::vector<DeviceId> add_delta_ranges(session::Session& s, trust::Store& store, const VectorClock& has,
                                       const replica::Device* peer, const ExportPlan& plan, BundleInfo& info) {
  std::vector<DeviceId> receipts;
  // The devices whose chains this database holds, and those whose first operations wait here.
  std::vector<DeviceId> devices;
  for (const auto& [device, head] : info.clock.entries()) devices.push_back(device);
  std::set<DeviceId> waiting;
  if (count_pending(s.db) > 0) {
    for (const DeviceId& w : PendingReader(s.db).devices())
      if (!plan.withholds(w)) devices.push_back(w), waiting.insert(w);
    std::sort(devices.begin(), devices.end());
    devices.erase(std::unique(devices.begin(), devices.end()), devices.end());
  }
  // `devices`, `has` and the device list are all in device order: one walk.
  auto held = has.entries().begin();
  const auto held_end = has.entries().end();
  std::size_t cursor = 0;
  for (const DeviceId& device : devices) {
    while (held != held_end && held->first < device) ++held;
    const std::uint64_t from = held != held_end && held->first == device ? held->second : 0;
    if (plan.withholds(device)) continue;  // The peer's own chain of a scope it may not read: its entry only.
    const replica::Device* known = s.devices.find_ascending(device, cursor);
    if (known == nullptr) continue;  // Pending rows always have their device's row; a damaged database may not.
    const replica::Device& d = *known;
    const bool peers_own =
        peer != nullptr && (device == peer->id || (d.scoped() && s.devices.name_of(d).first->id == peer->id));
    // A chain the peer holds as far as it goes here, with nothing waiting after it: nothing to send,
    // found without a look at signatures (a hub sends a peer a few chains of many).
    if (d.head_seq <= from && waiting.count(device) == 0) {
      if (peers_own && add_receipt(s, store, d, info)) receipts.push_back(device);
      continue;
    }
    // This device's own chains (of every scope) go as far as they are held; it signs their heads.
    const bool own = device == s.self || (d.scoped() && s.devices.name_of(d).first->id == s.self);
    const auto end = own ? std::make_optional(std::make_pair(d.head_seq, s.devices.head_hash(d))) : relay_end(s, store, d, from);
    if (!end || end->first <= from) {
      if (peers_own && add_receipt(s, store, d, info)) receipts.push_back(device);
      continue;
    }
    if (from < d.base_seq)
      throw Error(Errc::refused, "this database started from a snapshot and holds device " + device.to_string() +
                                     "'s operations only after " + std::to_string(d.base_seq) +
                                     "; the peer lacks earlier ones: send it a snapshot (ferry export --snapshot)");
    const auto [last, last_hash] = *end;
    const auto prerequisite = from == 0 ? Hash{} : from == d.base_seq ? s.devices.base_hash(d) : held_hash(s, d, from);
    info.ranges.push_back(SeqRange{device, from + 1, last});
    info.prerequisites.push_back(prerequisite);
    info.last_hashes.push_back(last_hash);
    info.operations += last - from;
  }
  return receipts;
}

// A bundle for a peer in a fleet carries the chains of the shared scope and of
// the scopes the peer's newest grant held here lets it read or relay; not one
// operation, name or clock entry of another (format4.md §12.4). The peer's own
// chains of such a scope keep their clock entries, so that it learns they are
// held here (exchange/purge.h), but no operation. Takes them out of the clock
// the ranges are planned from, into plan.withheld.
void withhold_unreadable(session::Session& s, ExportPlan& plan) {
  if (!s.fleet.administrator()) return;
  std::map<std::string, bool, std::less<>> receives;  // By scope: the answers so far.
  enum class Goes { whole, entry_only, nothing };
  auto goes = [&](const DeviceId& chain) {
    if (!log::is_scoped_chain(chain)) return Goes::whole;
    const auto [owner, scope] = s.devices.name_of(*s.devices.find(chain));
    auto it = receives.find(scope);
    if (it == receives.end()) it = receives.emplace(std::string(scope), s.fleet.may_receive(plan.peer->id, scope)).first;
    return it->second ? Goes::whole : owner->id == plan.peer->id ? Goes::entry_only : Goes::nothing;
  };
  std::vector<VectorClock::Entry> kept;
  for (const auto& entry : plan.info.clock.entries()) {
    const Goes g = goes(entry.first);
    if (g != Goes::whole) plan.withheld.push_back(entry.first);
    if (g != Goes::nothing) kept.push_back(entry);
  }
  if (count_pending(s.db) > 0)
    for (const DeviceId& w : PendingReader(s.db).devices())
      if (goes(w) != Goes::whole) plan.withheld.push_back(w);
  std::sort(plan.withheld.begin(), plan.withheld.end());
  plan.withheld.erase(std::unique(plan.withheld.begin(), plan.withheld.end()), plan.withheld.end());
  plan.info.clock = VectorClock(std::move(kept));
}

// The device a bundle is encrypted for, and its encryption key.
std::pair<DeviceId, PublicKey> recipient(session::Session& s, trust::Store& store, const std::string& who) {
  const replica::Device& d = s.devices.lookup(who);
  if (d.id == s.self) throw Error(Errc::invalid_argument, "cannot encrypt a bundle for this device itself");
  const auto identity = store.identity(d.id);
  if (!identity || identity->box == PublicKey{})
    throw Error(Errc::not_found, "the encryption key of device " + d.id.to_string() +
                                     " is not known here: import a bundle it exported first, or add its full key "
                                     "(`ferry trust DB add " + d.id.to_string() + " KEY`, KEY from `ferry status` on it)");
  if (store.trust_of(d.id) == Trust::removed)
    throw Error(Errc::refused, "device " + d.id.to_string() + " was removed from the trusted devices; not encrypting for it");
  return {d.id, identity->box};
}

// Chains that only the deps of the operations going out name, neither the
// clock nor a range: those a relay's pending operations follow without this
// database holding them; those this database forgot (identity/forget.h) and
// holds nothing of now; and, in a bundle written against a reference, whose
// clock names only what differs from it, any chain the deps of a held
// operation name. (A held operation names no other chain with no head here:
// it was applied with what it follows held, and only forgetting removes
// operations others follow; identity/reidentify.h moves only those that never
// left.) The causal index says which held operations have deps: one row
// where their clocks grew.
std::vector<DeviceId> named_beyond(session::Session& s, const ExportPlan& plan) {
  const BundleInfo& info = plan.info;
  const bundle::Chains known = bundle::Chains::of(info);
  std::set<DeviceId> out;
  auto note_deps = [&](std::string_view body) {
    if (body.size() < 2 || body[1] != 2) return;  // Format 1 names chains inside its body only.
    const Operation op = log::decode(body, s.db.path() + ": an operation going out", log::kNewestOperationFormat);
    for (const auto& entry : op.clock.entries())
      if (known.number(entry.first) == 0) out.insert(entry.first);
  };
  std::vector<std::int64_t> headless;  // Forgotten chains with nothing held now.
  for (const auto& entry : replica::forgotten(s.db))
    if (const replica::Device* d = s.devices.find(entry.first); d != nullptr && d->head_seq == 0) headless.push_back(d->no);
  const bool every_dep = info.reference.has_value();
  auto with_deps = s.db.prepare("SELECT DISTINCT seq FROM ferry_deps WHERE chain=? AND seq BETWEEN ? AND ?");
  auto following = s.db.prepare("SELECT seq FROM ferry_deps WHERE chain=? AND dep=? AND seq BETWEEN ? AND ?");
  // The seqs `st` finds, bound from 1 with `leading` and then (first, last), into `seqs`.
  auto collect = [](sql::Statement& st, std::initializer_list<std::int64_t> leading, std::uint64_t first,
                    std::uint64_t last, std::set<std::uint64_t>& seqs) {
    int at = 1;
    for (std::int64_t v : leading) st.bind(at++, v);
    st.bind(at, static_cast<std::int64_t>(first)).bind(at + 1, static_cast<std::int64_t>(last));
    while (st.step()) seqs.insert(static_cast<std::uint64_t>(st.integer(0)));
    st.reset();
  };
  auto held_ops = [&](const replica::Device& d, std::uint64_t first, std::uint64_t last) {
    std::set<std::uint64_t> seqs;  // Operations with deps (every_dep), or with deps on a forgotten chain.
    if (every_dep) {
      collect(with_deps, {d.no}, first, last, seqs);
    } else {
      for (std::int64_t dep : headless) collect(following, {d.no, dep}, first, last, seqs);
    }
    for (std::uint64_t seq : seqs)
      if (const auto body = s.log.body(d.id, seq)) note_deps(*body);
  };
  for (const SeqRange& r : info.ranges) {
    const replica::Device& d = *s.devices.find(r.device);
    const std::uint64_t held = std::min(r.last, d.head_seq);
    if ((every_dep || !headless.empty()) && r.first <= held) held_ops(d, r.first, held);
    if (r.last > held)  // From where the range starts, which may be inside the pending run.
      for_each_pending_run(s.db, r.device, std::max(held, r.first - 1), r.last, true,
                           [&](std::uint64_t, std::string_view, std::string_view body) { note_deps(body); });
  }
  if (!headless.empty())
    for (const auto& [origin, seq] : plan.snapshot) held_ops(*s.devices.find(origin), seq, seq);
  if (info.snapshot && info.format_major >= 4) {  // Its causal rows (export.cc) name chains too.
    auto deps = s.db.prepare("SELECT DISTINCT chain, dep FROM ferry_deps");
    while (deps.step())
      if (const DeviceId& id = s.devices.by_no(deps.integer(1)).id;
          known.number(id) == 0 && !plan.withholds(s.devices.by_no(deps.integer(0)).id))
        out.insert(id);
  }
  return std::vector<DeviceId>(out.begin(), out.end());
}

// 4.2 (format4.md §12.6): the names of the chains of a scope the bundle
// numbers, and the minor version that has them and scoped tables. ferry 3.x
// reads no scope: such a database writes it none.
void name_scoped_chains(session::Session& s, BundleInfo& info, const std::vector<DeviceId>& also) {
  std::set<DeviceId> scoped;
  auto note = [&](const DeviceId& id) {
    if (log::is_scoped_chain(id)) scoped.insert(id);
  };
  for (const auto& [chain, seq] : info.clock.entries()) note(chain);
  for (const DeviceId& chain : info.clock_dropped) note(chain);
  for (const SeqRange& r : info.ranges) note(r.device);
  for (const DeviceId& chain : also) note(chain);
  info.scoped_chains.clear();
  for (const DeviceId& chain : scoped) {
    const auto [owner, scope] = s.devices.name_of(*s.devices.find(chain));
    info.scoped_chains.push_back({chain, owner->id, std::string(scope)});
  }
  const bool scoped_tables =
      std::any_of(info.tables.begin(), info.tables.end(), [](const TableInfo& t) { return !t.scope.empty(); });
  if (!scoped.empty() || scoped_tables) {
    if (info.format_major < 4)
      throw Error(Errc::refused, "this database has scoped tables, which ferry 3.x cannot read: a bundle of format 3 "
                                 "cannot carry them");
    info.format_minor = std::max(info.format_minor, bundle::kScopesMinor);
  }
}

// 4.1 (bundle_format/README.md §4): a bundle for a peer names it; and when
// the peer's last announcement here is exactly the clock of one bundle it
// wrote for this device (which it keeps, log/peer_clocks.h), the bundle is
// written against it: its clock says only what differs, and always the peer's
// own entry (the peer checks it against its own chain, identity/identity.h).
// `kept`: the peer's announced clock if read already. `whole_clock`: named,
// but with the whole clock (ExportOptions::whole_clock).
void write_against_announcement(session::Session& s, ExportPlan& plan, const VectorClock* kept, bool whole_clock) {
  plan.info.format_minor = 1;
  plan.info.addressee = plan.peer->id;
  const auto reference = log::stored_reference(s.db, "announced_clock", plan.peer->no);
  if (!reference || whole_clock) return;
  const VectorClock announced = kept ? *kept : log::stored_clock(s.db, s.devices, "announced_clock", plan.peer->no);
  BundleInfo& info = plan.info;
  // One walk over both clocks, each in device order.
  std::vector<VectorClock::Entry> differs;
  auto a = announced.entries().begin();
  const auto a_end = announced.entries().end();
  for (const auto& [device, seq] : info.clock.entries()) {
    for (; a != a_end && a->first < device; ++a) info.clock_dropped.push_back(a->first);
    const bool same = a != a_end && a->first == device && a->second == seq;
    if (a != a_end && a->first == device) ++a;
    if (!same || device == plan.peer->id) differs.emplace_back(device, seq);
  }
  for (; a != a_end; ++a) info.clock_dropped.push_back(a->first);
  info.clock = VectorClock(std::move(differs));
  info.reference = reference;
}

}  // namespace

ExportPlan plan_export(session::Session& s, trust::Store& store, const trust::KeyPair& keys, const std::string& self_name,
                       const ExportOptions& options) {
  ExportPlan plan;
  VectorClock has;  // What the peer is known to have.
  if (!options.peer.empty()) {
    if (auto id = Uuid::parse(options.peer); id && s.devices.find(*id) == nullptr) {
      plan.peer = &s.devices.ensure(*id);  // A device never heard from: it gets everything.
    } else {
      plan.peer = &s.devices.lookup(options.peer);
    }
    if (plan.peer->id == s.self) throw Error(Errc::invalid_argument, "cannot export to this device itself");
    if (!options.all) has = log::stored_clock(s.db, s.devices, "announced_clock", plan.peer->no);
  } else if (!options.all && !options.since && !options.snapshot) {
    throw Error(Errc::invalid_argument, "say who the bundle is for (--peer) or export everything (--all)");
  }
  if (options.since) has = *options.since;
  if (!options.encrypt_for.empty()) plan.encrypt_for = recipient(s, store, options.encrypt_for);

  BundleInfo& info = plan.info;
  if (options.format != 0 && options.format != 3 && options.format != bundle::kFormatMajor)
    throw Error(Errc::invalid_argument, "bundle format " + std::to_string(options.format) + " cannot be written: this ferry "
                                        "writes format 4, and format 3 for peers still running ferry 3.x");
  info.format_major = options.format ? options.format : bundle::kExportFormatMajor;
  info.format_minor = 0;  // 4.1 only for a bundle written for a device (write_against_announcement()).
  info.bundle_id = util::make_uuid_v7(util::now_ms());
  info.exporter = s.self;
  info.exporter_name = self_name;
  info.created_ms = util::now_ms();
  info.clock = s.devices.clock();
  if (plan.peer != nullptr) withhold_unreadable(s, plan);
  info.signer_key = keys.identity().sign;
  info.exporter_box_key = keys.identity().box;
  if (options.snapshot) {
    plan.snapshot = add_snapshot(s, info, [&](const DeviceId& chain) { return !plan.withholds(chain); });
  } else {
    plan.receipts = add_delta_ranges(s, store, has, options.all ? nullptr : plan.peer, plan, info);
  }
  sign_ranges(s, store, keys, info);
  info.tables = known_tables(s.tables, s.db);
  plan.whole_clock = info.clock;
  const bool has_is_announced = plan.peer != nullptr && !options.all && !options.since;
  if (!options.snapshot && plan.peer != nullptr && info.format_major >= 4)
    write_against_announcement(s, plan, has_is_announced ? &has : nullptr, options.whole_clock);
  name_chains(s, plan);
  return plan;
}

void name_chains(session::Session& s, ExportPlan& plan) {
  name_scoped_chains(s, plan.info, {});
  plan.also_named = named_beyond(s, plan);
  name_scoped_chains(s, plan.info, plan.also_named);
}

}  // namespace ferry::exchange
