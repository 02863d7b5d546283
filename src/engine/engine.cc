#include "ferry/engine.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "capture/held.h"
#include "capture/scope.h"
#include "engine/engine_impl.h"
#include "exchange/pending.h"
#include "fingerprint/fingerprint.h"
#include "fleet/fleet.h"
#include "identity/identity.h"
#include "merge/row_store.h"
#include "log/chain.h"
#include "log/codec.h"
#include "log/peer_clocks.h"
#include "log/store.h"
#include "log/upgrade.h"
#include "merge/conflicts.h"
#include "merge/rules.h"
#include "replica/meta.h"
#include "replica/schema.h"
#include "session/session.h"
#include "trust/keys.h"
#include "trust/store.h"
#include "util/files.h"
#include "util/uuid.h"

namespace ferry {
namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Engine Engine::init(const std::string& path, const std::string& device_name) {
  if (path.empty()) throw Error(Errc::invalid_argument, "a database path is needed");
  if (device_name.size() > log::kMaxNameBytes)  // It travels in every bundle's manifest, whose readers refuse more.
    throw Error(Errc::invalid_argument, "the device name is " + std::to_string(device_name.size()) +
                                            " bytes, more than the " + std::to_string(log::kMaxNameBytes) +
                                            " a bundle may carry; choose a shorter --name");
  sql::Database db(path, sql::Database::Mode::create);
  replica::configure_connection(db);
  sql::Transaction tx(db);
  bool fresh = false;
  if (!replica::has_schema(db)) {
    fresh = true;
    replica::create_schema(db);
    const DeviceId id = util::make_uuid_v7(util::now_ms());
    const trust::KeyPair keys = trust::KeyPair::generate();
    replica::set_meta(db, "format", Value::integer(replica::kLocalSchemaVersion));
    replica::set_meta(db, "device_name", Value::text(device_name));
    replica::set_meta(db, "lamport", Value::integer(0));
    replica::set_meta(db, "trust_policy", Value::text("tofu"));
    replica::set_meta(db, "capture_triggers", Value::integer(capture::kTriggerVersion));
    identity::become_device(db, id, device_name, keys.identity());
    keys.save(trust::key_path(path), id);  // Before the commit: a device never exists without its key.
  }
  try {
    tx.commit();
  } catch (...) {
    if (fresh) ::unlink(trust::key_path(path).c_str());
    throw;
  }
  return Engine(Impl::adopt(std::move(db)));
}

Engine Engine::open(const std::string& path) {
  if (!file_exists(path))
    throw Error(Errc::not_found, path + ": no such database (check the path, or create one with `ferry init " + path + "`)");
  // Never opened by hand: closing a descriptor of a database file drops the POSIX locks
  // of every SQLite connection to it in this process (an application's, say).
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw Error(Errc::invalid_argument, path + ": is " + util::kind_of_file(st.st_mode) + ", not a database");
  // What this process cannot write it can still show and verify (status, log, verify on a read-only mount).
  const bool writable = ::access(path.c_str(), W_OK) == 0 && ::access(util::folder_of(path).c_str(), W_OK) == 0;
  sql::Database db(path, writable ? sql::Database::Mode::open : sql::Database::Mode::read_only);
  auto impl = Impl::adopt(std::move(db));
  if (!impl->db.read_only()) replica::configure_connection(impl->db);
  return Engine(std::move(impl));
}

Engine Engine::on_connection(void* connection) {
  if (connection == nullptr) throw Error(Errc::invalid_argument, "no connection was given");
  return Engine(Impl::adopt(sql::Database(static_cast<sqlite3*>(connection))));
}

std::unique_ptr<Engine::Impl> Engine::Impl::adopt(sql::Database db) {
  const std::string path = db.path();
  bool prepared = false;
  try {
    prepared = replica::has_schema(db);
  } catch (const Error& e) {
    if (e.code() != Errc::corrupt) throw;  // SQLITE_NOTADB: SQLite read the header, and it is not one.
    throw Error(Errc::invalid_argument, path + ": is not a SQLite database; give the path of a database ferry prepared");
  }
  if (!prepared)
    throw Error(Errc::refused, path + ": this database is not prepared for ferry; run `ferry init " + path + "` first");
  const int format = replica::check_format(db);
  int upgraded_from = 0;
  if (format < replica::kLocalSchemaVersion) {
    if (db.read_only())
      throw Error(Errc::refused, path + ": was prepared by an earlier ferry (local format " + std::to_string(format) +
                                     "); open it once where it can be written, and this ferry upgrades it in place");
    sql::Transaction tx(db);
    const int now = replica::check_format(db);  // Another process may have upgraded it meanwhile.
    if (now < replica::kLocalSchemaVersion) {
      log::upgrade(db, now);
      upgraded_from = now;
    }
    tx.commit();
  }
  auto impl = std::make_unique<Impl>(Impl{std::move(db), {}, {}, {}, upgraded_from});
  impl->self = replica::own_device_id(impl->db);
  impl->name = replica::own_device_name(impl->db);
  return impl;
}

int Engine::upgraded_from() const { return impl_->upgraded_from; }

std::size_t Engine::Impl::seal_captured() {
  if (db.read_only()) return 0;  // Shown as sealed so far: nothing here can be written.
  sql::Transaction tx(db);
  session::Session s(db, self);
  const std::size_t n = s.seal();
  s.finish();
  tx.commit();
  return n;
}

DeviceId Engine::device_id() const { return impl_->self; }
std::string Engine::device_name() const { return impl_->name; }
const std::string& Engine::path() const { return impl_->db.path(); }

void Engine::check_output(const std::string& path, const std::string& what) const {
  const std::string& db = impl_->db.path();
  util::refuse_precious_output(path,
                               {{db, "the database"},
                                {db + "-wal", "the database's write-ahead log"},
                                {db + "-shm", "the database's shared-memory index"},
                                {db + "-journal", "the database's rollback journal"},
                                {trust::key_path(db), "this device's private key"}},
                               what);
}

std::size_t Engine::track(const std::string& table) { return track(table, std::string()); }

std::size_t Engine::track(const std::string& table, const std::string& scope) {
  identity::require_own_identity(impl_->db);  // Captured rows must be sealed before the triggers change.
  sql::Transaction tx(impl_->db);
  session::Session s(impl_->db, impl_->self);
  s.seal();  // Captured rows follow the old layout; seal them before the triggers change.
  auto t = capture::introspect(impl_->db, table);
  const capture::TrackedTable* before = s.tables.find(table);
  if (scope.empty()) {
    if (before != nullptr) t.scope = before->scope;  // Tracked again (a column added): its scope stays.
  } else {
    // Before any operation of it is held here or waits, nothing was put in a scope yet.
    s.merger.flush();  // What the seal above merged, for holds_any to see.
    if (before != nullptr && before->scope != scope && (merge::RowStore::holds_any(impl_->db, before->no) ||
                                                        exchange::count_pending(impl_->db) > 0))
      throw Error(Errc::refused, impl_->db.path() + ": table '" + table + "' was tracked " +
                                     (before->scope.empty() ? "without a scope" : "with scope " + before->scope) +
                                     "; a table's scope never changes once it has operations, since every device "
                                     "must put each row in the same one");
    capture::check_scope_expression(impl_->db, t, scope);
    t.scope = scope;
  }
  const bool is_new = s.tables.track(t);
  std::size_t backfilled = 0;
  if (is_new) {
    s.tables.capture_existing_rows(*s.tables.find(table));
    backfilled = s.seal();
  }
  s.finish();
  tx.commit();
  return backfilled;
}

void Engine::untrack(const std::string& table) {
  identity::require_own_identity(impl_->db);
  if (table == fleet::kGrantsTable && fleet::Fleet(impl_->db).administrator())
    throw Error(Errc::refused, impl_->db.path() + ": " + table + " holds the fleet's grants, which ferry tracks for as "
                                                  "long as this database is in the fleet");
  sql::Transaction tx(impl_->db);
  session::Session s(impl_->db, impl_->self);
  s.seal();
  s.tables.untrack(table);
  s.finish();
  tx.commit();
}

std::vector<TableInfo> Engine::tables() {
  capture::Registry registry(impl_->db);
  std::vector<TableInfo> out;
  for (const auto* t : registry.tracked()) out.push_back(t->info());
  return out;
}

std::size_t Engine::seal() {
  identity::require_own_identity(impl_->db);
  return impl_->seal_captured();
}

void Engine::set_ferry3_compatible(bool on) {
  impl_->seal_captured();
  sql::Transaction tx(impl_->db);
  replica::set_meta(impl_->db, replica::kSealFormatKey, Value::integer(on ? 1 : 2));
  tx.commit();
}

bool Engine::ferry3_compatible() { return replica::get_meta_count(impl_->db, replica::kSealFormatKey, 2) == 1; }

VerifyReport Engine::verify() {
  impl_->seal_captured();
  replica::Devices devices(impl_->db);
  return log::verify_log(impl_->db, devices);
}

VectorClock Engine::clock() {
  impl_->seal_captured();
  return replica::Devices(impl_->db).clock();
}

namespace {

// Every device and its kept clocks (Engine::peers), from devices already loaded.
std::vector<PeerInfo> list_peers(sql::Database& db, const replica::Devices& devices, trust::Store& store,
                                 const FleetInfo& fleet) {
  std::vector<PeerInfo> out;
  for (const log::PeerClocks& c : log::all_peer_clocks(db, devices)) {
    if (devices.by_no(c.device_no).scoped()) continue;  // A device's chain of a scope, not a peer.
    PeerInfo p = store.describe(devices.by_no(c.device_no));
    p.announced = c.announced;
    p.announced_ms = c.announced_ms;
    p.exported = c.exported;
    p.exported_ms = c.exported_ms;
    for (const GrantInfo& g : fleet.grants)
      if (g.device == p.id) p.grant = g;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

StatusReport Engine::status() {
  impl_->seal_captured();
  StatusReport r;
  r.device = impl_->self;
  r.device_name = impl_->name;
  replica::Devices devices(impl_->db);
  trust::Store store(impl_->db);
  const trust::Identity identity = store.self_identity();
  r.public_key = trust::to_text(identity);
  r.fingerprint = trust::fingerprint(impl_->self, identity.sign);
  r.strict = store.strict();
  r.ferry3_compatible = ferry3_compatible();
  r.forks = store.forks();
  r.identity_reused = replica::reuse_evidence(impl_->db).value_or("");
  r.clock = devices.clock();
  for (const auto& t : tables()) r.tables.push_back(t.name);
  r.operations = log::count_operations(impl_->db);
  const auto pending = exchange::pending_state(impl_->db, devices);
  r.missing = pending.missing;
  r.pending_operations = pending.operations;
  r.conflicts_open = merge::count_open(impl_->db);
  r.held = capture::Held::list(impl_->db, capture::Registry(impl_->db));
  r.fleet = fleet();
  r.peers = list_peers(impl_->db, devices, store, r.fleet);  // Sealed and loaded once for both.
  r.scopes = held_scopes(impl_->db, impl_->self);
  return r;
}

std::vector<ScopedChain> Engine::scoped_chains() {
  std::vector<ScopedChain> out;
  replica::Devices devices(impl_->db);
  auto st = impl_->db.prepare("SELECT chain FROM ferry_chain_names ORDER BY chain");
  while (st.step()) {
    const replica::Device& chain = devices.by_no(st.integer(0));
    const auto [owner, scope] = devices.name_of(chain);
    out.push_back({chain.id, owner->id, std::string(scope)});
  }
  return out;
}

std::vector<PeerInfo> Engine::peers() {
  impl_->seal_captured();
  replica::Devices devices(impl_->db);
  trust::Store store(impl_->db);
  return list_peers(impl_->db, devices, store, fleet());
}

Fingerprint Engine::fingerprint() { return fingerprint_of(std::nullopt); }

Fingerprint Engine::fingerprint(const std::string& scope) {
  if (!scope.empty())
    if (std::string why = log::scope_problem(scope); !why.empty()) throw Error(Errc::invalid_argument, why);
  return fingerprint_of(scope);
}

Fingerprint Engine::fingerprint_of(const std::optional<std::string>& scope) {
  impl_->seal_captured();
  replica::Devices devices(impl_->db);
  capture::Registry tables(impl_->db);
  Fingerprint f = fingerprint::compute(impl_->db, devices, tables, scope);
  f.device = impl_->self;
  f.device_name = impl_->name;
  f.taken_ms = util::now_ms();
  return f;
}

InclusionProof Engine::prove(const OperationId& operation) {
  impl_->seal_captured();
  replica::Devices devices(impl_->db);
  return fingerprint::prove(impl_->db, devices, operation);
}

std::vector<Operation> Engine::log(const LogFilter& filter) {
  impl_->seal_captured();
  std::vector<Operation> out;
  log::for_each_logged(impl_->db, [&](std::string_view body) {
    Operation op = log::decode(body, impl_->db.path() + ": log", log::kNewestOperationFormat);
    if (filter.table && op.table != *filter.table) return;
    if (filter.key && op.key != *filter.key) return;
    if (filter.device && op.origin != *filter.device) return;
    out.push_back(std::move(op));
  });
  // Newest first: the reverse of the causal order.
  std::sort(out.begin(), out.end(), [](const Operation& a, const Operation& b) { return merge::causal_less(b, a); });
  if (filter.limit && out.size() > filter.limit) out.resize(filter.limit);
  return out;
}

}  // namespace ferry
