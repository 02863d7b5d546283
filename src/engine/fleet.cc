// Engine's fleet methods: the administrator and its grants (fleet/fleet.h).
#include <map>

#include "capture/tables.h"
#include "engine/engine_impl.h"
#include "fleet/fleet.h"
#include "identity/identity.h"
#include "replica/devices.h"
#include "replica/meta.h"
#include "session/session.h"
#include "trust/store.h"

namespace ferry {
namespace {

GrantInfo describe(const DeviceId& device, const fleet::Grant& grant, const replica::Devices& devices) {
  GrantInfo g;
  g.device = device;
  if (const replica::Device* d = devices.find(device)) g.name = d->name;
  g.read = grant.read;
  g.write = grant.write;
  g.relay = grant.relay;
  g.admin_seq = grant.admin_seq;
  return g;
}

FleetInfo describe(sql::Database& db) {
  const fleet::Fleet f(db);
  const replica::Devices devices(db);
  FleetInfo info;
  info.administrator = f.administrator();
  if (info.administrator) {
    trust::Store store(db);
    const auto key = *info.administrator == replica::own_device_id(db) ? store.self_identity()
                                                                         : store.identity(*info.administrator);
    if (key) info.administrator_key = trust::to_text(*key);
  }
  info.started = info.administrator && f.started();
  for (const auto& [device, grant] : f.all()) info.grants.push_back(describe(device, grant, devices));
  return info;
}

// Refuses a database that is in a fleet administered by another device than `admin`.
// Returns true when it is in `admin`'s already.
bool in_fleet_of(sql::Database& db, const DeviceId& admin) {
  const auto held = fleet::Fleet(db).administrator();
  if (!held) return false;
  if (*held == admin) return true;
  throw Error(Errc::refused, db.path() + ": is already in the fleet administered by device " + held->to_string() +
                                 "; a database belongs to one fleet");
}

// Tracks ferry_grants, which fleet::Fleet::set_up created.
void track_grants(session::Session& s) {
  s.tables.track(capture::introspect(s.db, fleet::kGrantsTable, /*ferry_own=*/true));
}

// Refuses unless this device administers its fleet.
void require_administrator(session::Session& s) {
  const auto& admin = s.fleet.administrator();
  if (!admin)
    throw Error(Errc::refused, s.db.path() + ": is in no fleet; `ferry fleet DB init` makes this device the "
                                             "administrator of one");
  if (*admin != s.self)
    throw Error(Errc::refused, s.db.path() + ": grants are written by the fleet's administrator, device " +
                                   admin->to_string() + "; run this there");
}

}  // namespace

FleetInfo Engine::fleet_init() {
  identity::require_own_identity(impl_->db);
  sql::Transaction tx(impl_->db);
  if (in_fleet_of(impl_->db, impl_->self)) return describe(impl_->db);
  fleet::Fleet::set_up(impl_->db, impl_->self);
  session::Session s(impl_->db, impl_->self);
  s.seal();  // What was written before belongs to the starting history.
  const VectorClock since = s.devices.clock();
  track_grants(s);
  auto own = impl_->db.prepare(std::string("INSERT INTO ") + fleet::kGrantsTable +
                               "(device, read, write, relay, since) VALUES(?, ?, ?, '[]', ?)");
  const std::string every = fleet::scopes_to_json({fleet::kEveryScope});
  own.bind_blob(1, impl_->self.bytes.data(), 16).bind(2, every).bind(3, every).bind(4, fleet::clock_text(since));
  own.run();
  s.seal();
  s.finish();
  tx.commit();
  return describe(impl_->db);
}

FleetInfo Engine::fleet_join(const std::string& administrator, const std::string& public_key, const std::string& name) {
  identity::require_own_identity(impl_->db);
  const auto admin = Uuid::parse(administrator);
  if (!admin)
    throw Error(Errc::invalid_argument, "'" + printable(administrator) + "' is not a device id: give the administrator's "
                                        "whole id, as `ferry status` shows it on that device");
  if (*admin == impl_->self)
    throw Error(Errc::invalid_argument, "this device cannot join a fleet as a member of itself: `ferry fleet DB init` "
                                        "makes a device the administrator");
  {
    sql::Transaction check(impl_->db);
    if (in_fleet_of(impl_->db, *admin)) return describe(impl_->db);
  }
  trust_add(admin->to_string(), public_key, name);  // Its grants are believed only under this key.
  sql::Transaction tx(impl_->db);
  session::Session s(impl_->db, impl_->self);
  s.seal();  // Sealed before the fleet's rules apply here, as written.
  fleet::Fleet::set_up(impl_->db, *admin);
  track_grants(s);
  s.finish();
  tx.commit();
  return describe(impl_->db);
}

GrantInfo Engine::grant(const std::string& device, const GrantInfo& sets) {
  identity::require_own_identity(impl_->db);
  const std::string read = fleet::scopes_to_json(sets.read), write = fleet::scopes_to_json(sets.write),
                    relay = fleet::scopes_to_json(sets.relay);  // Each refuses a bad name before anything is written.
  sql::Transaction tx(impl_->db);
  session::Session s(impl_->db, impl_->self);
  require_administrator(s);
  const auto id = Uuid::parse(device);
  const DeviceId target = id ? *id : s.devices.lookup(device).id;
  if (target == impl_->self)
    throw Error(Errc::invalid_argument, "the administrator may read and write every scope already");
  s.seal();
  auto st = impl_->db.prepare(std::string("INSERT INTO ") + fleet::kGrantsTable +
                              "(device, read, write, relay) VALUES(?, ?, ?, ?) ON CONFLICT(device) DO UPDATE SET "
                              "read=excluded.read, write=excluded.write, relay=excluded.relay");
  st.bind_blob(1, target.bytes.data(), 16).bind(2, read).bind(3, write).bind(4, relay);
  st.run();
  s.seal();
  const auto made = s.fleet.newest(target);
  if (!made) throw Error(Errc::internal, impl_->db.path() + ": the grant just written was not noted");
  GrantInfo out = describe(target, *made, s.devices);
  s.finish();
  tx.commit();
  return out;
}

GrantInfo Engine::revoke(const std::string& device) { return grant(device, GrantInfo{}); }

FleetInfo Engine::admit(const std::string& history) {
  identity::require_own_identity(impl_->db);
  VectorClock since = VectorClock::parse(history);
  sql::Transaction tx(impl_->db);
  session::Session s(impl_->db, impl_->self);
  require_administrator(s);
  s.seal();
  auto held = impl_->db.prepare(std::string("SELECT since FROM ") + fleet::kGrantsTable + " WHERE device=?");
  held.bind_blob(1, impl_->self.bytes.data(), 16);
  if (held.step()) {
    const Value before = held.value(0);
    if (before.type() == Value::Type::text && !before.as_text().empty()) since.merge(VectorClock::parse(before.as_text()));
  }
  auto st = impl_->db.prepare(std::string("UPDATE ") + fleet::kGrantsTable + " SET since=? WHERE device=?");
  st.bind(1, fleet::clock_text(since)).bind_blob(2, impl_->self.bytes.data(), 16);
  st.run();
  s.seal();
  s.finish();
  tx.commit();
  return describe(impl_->db);
}

FleetInfo Engine::fleet() {
  impl_->seal_captured();
  return describe(impl_->db);
}

std::vector<ScopeHeld> held_scopes(sql::Database& db, const DeviceId& self) {
  std::map<std::string, ScopeHeld> by_name;
  replica::Devices devices(db);
  const fleet::Fleet fleet(db);
  std::map<std::int64_t, std::size_t> waiting;  // By chain number.
  auto pending = db.prepare("SELECT d.no, count(*) FROM ferry_pending AS p JOIN ferry_devices AS d ON d.id = p.origin "
                            "GROUP BY d.no");
  while (pending.step()) waiting[pending.integer(0)] = static_cast<std::size_t>(pending.integer(1));
  auto names = db.prepare("SELECT chain, scope FROM ferry_chain_names");
  while (names.step()) {
    const replica::Device& chain = devices.by_no(names.integer(0));
    const auto w = waiting.find(chain.no);
    const std::size_t here = w == waiting.end() ? 0 : w->second;
    if (chain.head_seq == 0 && chain.base_seq == 0 && here == 0) continue;
    ScopeHeld& h = by_name[names.text(1)];
    h.scope = names.text(1);
    ++h.chains;
    h.operations += chain.head_seq - chain.base_seq;
    h.waiting += here;
    h.reads = fleet.may_read(self, h.scope);
  }
  std::vector<ScopeHeld> out;
  for (auto& [name, h] : by_name) out.push_back(std::move(h));
  return out;
}

}  // namespace ferry
