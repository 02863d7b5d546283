#include "exchange/purge.h"

#include <algorithm>
#include <map>
#include <optional>

#include "exchange/pending.h"
#include "log/codec.h"
#include "log/peer_clocks.h"
#include "log/store.h"
#include "replica/meta.h"

namespace ferry::exchange {
namespace {

// Step 1: the scopes named here that this device may not read, each with the
// chains of it that hold anything to remove: operations or a snapshot's base
// and, unless it relays the scope (whose chains wait in ferry_pending to be
// passed on), pending operations.
struct Unreadable {
  bool relayed = false;
  std::vector<replica::Device*> chains;
};
std::map<std::string, Unreadable> unreadable(session::Session& s) {
  std::map<std::string, Unreadable> out;
  const auto& admin = s.fleet.administrator();
  if (!admin || *admin == s.self) return out;
  std::map<std::string, std::optional<bool>> relayed;  // By scope: nullopt when readable.
  const bool any_pending = count_pending(s.db) > 0;
  auto pending = s.db.prepare("SELECT 1 FROM ferry_pending WHERE origin=? LIMIT 1");
  auto names = s.db.prepare("SELECT chain, scope FROM ferry_chain_names");
  while (names.step()) {
    const std::string scope = names.text(1);
    auto it = relayed.find(scope);
    if (it == relayed.end())
      it = relayed.emplace(scope, s.fleet.may_read(s.self, scope) ? std::nullopt
                                                                    : std::optional<bool>(s.fleet.may_receive(s.self, scope)))
               .first;
    if (!it->second) continue;
    replica::Device& chain = s.devices.ensure(s.devices.by_no(names.integer(0)).id);
    bool holds = chain.head_seq > 0 || chain.base_seq > 0;
    if (!holds && any_pending && !*it->second) {
      pending.bind_blob(1, chain.id.bytes.data(), 16);
      holds = pending.step();
      pending.reset();
    }
    if (!holds) continue;
    Unreadable& u = out[scope];
    u.relayed = *it->second;
    u.chains.push_back(&chain);
  }
  return out;
}

// Step 2: how many of this device's own operations in `chains` no peer has
// announced holding.
std::size_t unsent(session::Session& s, const std::vector<replica::Device*>& chains) {
  std::size_t out = 0;
  std::optional<std::vector<log::PeerClocks>> peers;
  for (const replica::Device* chain : chains) {
    if (s.devices.name_of(*chain).first->id != s.self || chain->head_seq == 0) continue;
    if (!peers) peers = log::all_peer_clocks(s.db, s.devices);
    std::uint64_t held_elsewhere = 0;
    for (const auto& p : *peers) held_elsewhere = std::max(held_elsewhere, p.announced.get(chain->id));
    if (held_elsewhere < chain->head_seq) out += chain->head_seq - held_elsewhere;
  }
  return out;
}

// Step 3: the rows `chain`'s operations wrote lose `scope`'s state (once:
// a row that has none left is not touched again). Counts the operations and rows.
void drop_rows(session::Session& s, const replica::Device& chain, const std::string& scope, ScopeRemoved& r) {
  auto note = [&](std::string_view body) {
    const Operation op = log::decode(body, s.db.path() + ": log", log::kNewestOperationFormat);
    ++r.operations;
    if (const capture::TrackedTable* t = s.tables.find(op.table); t != nullptr && s.merger.drop_scope(*t, op.key, scope))
      ++r.rows;
  };
  log::for_each_in_chain(s.db, chain.no, 1, chain.head_seq, [&](std::uint64_t, std::string_view body) { note(body); });
  log::for_each_in_base(s.db, chain.id, note);
}

}  // namespace

std::vector<ScopeRemoved> remove_unreadable_scopes(session::Session& s) {
  std::vector<ScopeRemoved> out;
  auto drop_pending = s.db.prepare("DELETE FROM ferry_pending WHERE origin=?");
  for (auto& [scope, u] : unreadable(s)) {
    const std::vector<replica::Device*>& chains = u.chains;
    ScopeRemoved r;
    r.scope = scope;
    r.unsent = unsent(s, chains);
    if (r.unsent > 0) {
      out.push_back(r);
      continue;
    }
    s.tables.suspend_triggers();  // What is written here is no change of this device's own.
    for (replica::Device* chain : chains) drop_rows(s, *chain, scope, r);
    s.tables.restore_triggers();
    s.merger.flush();
    for (replica::Device* chain : chains) {
      if (s.devices.name_of(*chain).first->id == s.self && chain->head_seq > 0)
        replica::set_purged_head(s.db, chain->id, chain->head_seq);
      log::remove(s.db, chain->no, 1, chain->head_seq);
      log::remove_base(s.db, chain->id, chain->no);
      if (!u.relayed) {
        drop_pending.bind_blob(1, chain->id.bytes.data(), 16);
        drop_pending.run();
        r.left_out += static_cast<std::size_t>(s.db.changes());
      }
      s.devices.drop_chain(*chain);
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace ferry::exchange
