#include "fleet/fleet.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "ferry/error.h"
#include "log/chain.h"
#include "replica/meta.h"

namespace ferry::fleet {
namespace {

constexpr const char* kAdminKey = "fleet_admin";
constexpr const char* kSinceKey = "fleet_since";
// A list of kMaxScopes names of kMaxScopeBytes, each escaped at worst six bytes a byte.
constexpr std::size_t kMaxListText = kMaxScopes * (log::kMaxScopeBytes * 6 + 3) + 2;

// Why `name` cannot be a scope name in a grant; empty when it can.
std::string bad_scope(const std::string& name) { return name == kEveryScope ? std::string() : log::scope_problem(name); }

bool lists(const std::vector<std::string>& scopes, std::string_view scope) {
  return std::binary_search(scopes.begin(), scopes.end(), std::string(kEveryScope)) ||
         std::binary_search(scopes.begin(), scopes.end(), std::string(scope));
}

std::string who(const DeviceId& device) { return "device " + device.to_string(); }

}  // namespace

bool Grant::may_write(std::string_view scope) const { return lists(write, scope); }
bool Grant::may_read(std::string_view scope) const { return scope.empty() || lists(read, scope) || lists(write, scope); }
bool Grant::may_relay(std::string_view scope) const { return lists(relay, scope); }

std::string scopes_to_json(std::vector<std::string> scopes) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  if (scopes.size() > kMaxScopes)
    throw Error(Errc::invalid_argument, std::to_string(scopes.size()) + " scopes in one list of a grant, more than " +
                                            std::to_string(kMaxScopes));
  for (const auto& name : scopes)
    if (std::string why = bad_scope(name); !why.empty()) throw Error(Errc::invalid_argument, why);
  return nlohmann::json(scopes).dump();
}

std::vector<std::string> scopes_from_json(std::string_view text, const std::string& where) {
  auto bad = [&](const std::string& what) -> std::vector<std::string> {
    throw Error(Errc::refused, where + ": " + what + "; the administrator's ferry writes a JSON array of distinct "
                                               "scope names sorted by bytes, at most " + std::to_string(kMaxScopes));
  };
  if (text.size() > kMaxListText) return bad("a scope list of " + std::to_string(text.size()) + " bytes");
  const auto parsed = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return bad("'" + printable(std::string(text)) + "' is not a list of scope names");
  std::vector<std::string> scopes;
  for (const auto& item : parsed) {
    if (!item.is_string()) return bad("'" + printable(std::string(text)) + "' holds something other than names");
    scopes.push_back(item.get<std::string>());
  }
  try {
    if (scopes_to_json(scopes) != text) return bad("'" + printable(std::string(text)) + "' is not in canonical form");
  } catch (const Error& e) {
    return bad(e.what());
  }
  return scopes;
}

std::string clock_text(const VectorClock& clock) {
  std::string out;
  for (const auto& [device, seq] : clock.entries())
    out += (out.empty() ? "" : ",") + device.to_string() + ":" + std::to_string(seq);
  return out;
}

Fleet::Fleet(sql::Database& db) : db_(db) {
  const auto admin = replica::get_meta(db, kAdminKey);
  if (!admin) return;
  if (admin->type() != Value::Type::blob || admin->as_blob().size() != 16)
    throw Error(Errc::corrupt, db.path() + ": ferry_meta's " + kAdminKey + " is not a device id");
  DeviceId id;
  std::memcpy(id.bytes.data(), admin->as_blob().data(), 16);
  admin_ = id;
  if (const auto since = replica::get_meta(db, kSinceKey)) {
    if (since->type() != Value::Type::text)
      throw Error(Errc::corrupt, db.path() + ": ferry_meta's " + kSinceKey + " is not a clock");
    try {
      since_ = since->as_text().empty() ? VectorClock() : VectorClock::parse(since->as_text());
    } catch (const Error& e) {
      throw Error(Errc::corrupt, db.path() + ": ferry_meta's " + kSinceKey + " is not a clock: " + e.what());
    }
  }
}

void Fleet::set_up(sql::Database& db, const DeviceId& admin) {
  replica::set_meta(db, kAdminKey, Value::blob(Bytes(admin.bytes.begin(), admin.bytes.end())));
  db.exec(std::string("CREATE TABLE IF NOT EXISTS ") + kGrantsTable +
          "(device BLOB PRIMARY KEY NOT NULL, read TEXT NOT NULL DEFAULT '[]', write TEXT NOT NULL DEFAULT '[]', "
          "relay TEXT NOT NULL DEFAULT '[]', since TEXT)");
}

std::string Fleet::unreadable_grant(const Operation& op) const {
  if (!admin_ || op.origin != *admin_ || op.table != kGrantsTable) return {};
  try {
    const std::string where = "the grant";
    if (op.key.size() != 1 || op.key[0].type() != Value::Type::blob || op.key[0].as_blob().size() != 16)
      return "a row of " + std::string(kGrantsTable) + " whose device is not a 16-byte device id";
    for (const auto& c : op.columns) {
      if (c.name == "since") {
        if (c.value.type() == Value::Type::null) continue;
        if (c.value.type() != Value::Type::text) return "its since is not a clock";
        if (!c.value.as_text().empty()) (void)VectorClock::parse(c.value.as_text());
      } else if (c.name == "read" || c.name == "write" || c.name == "relay") {
        if (c.value.type() != Value::Type::text) return "its " + c.name + " is not a list of scope names";
        (void)scopes_from_json(c.value.as_text(), where);
      }
    }
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

void Fleet::note(const Operation& op) {
  if (!admin_ || op.origin != *admin_ || op.table != kGrantsTable) return;
  const std::string where = db_.path() + ": the administrator's operation " + std::to_string(op.seq) + " on " +
                            kGrantsTable;
  if (op.key.size() != 1 || op.key[0].type() != Value::Type::blob || op.key[0].as_blob().size() != 16)
    throw Error(Errc::refused, where + ": its device is not a 16-byte device id");
  DeviceId device;
  std::memcpy(device.bytes.data(), op.key[0].as_blob().data(), 16);
  Grant g;
  if (op.kind == OpKind::update) {
    if (const auto& before = newest(device)) g = *before;
  }
  if (op.kind != OpKind::remove) {
    for (const auto& c : op.columns) {
      std::vector<std::string>* list = c.name == "read" ? &g.read : c.name == "write" ? &g.write
                                       : c.name == "relay" ? &g.relay : nullptr;
      if (list != nullptr) {
        if (c.value.type() != Value::Type::text) throw Error(Errc::refused, where + ": its " + c.name + " is not text");
        *list = scopes_from_json(c.value.as_text(), where);
      } else if (c.name == "since" && device == *admin_ && c.value.type() == Value::Type::text) {
        VectorClock since;
        try {
          if (!c.value.as_text().empty()) since = VectorClock::parse(c.value.as_text());
        } catch (const Error& e) {  // The administrator's bytes, not this caller's argument.
          throw Error(Errc::refused, where + ": its since is not a clock: " + e.what());
        }
        if (since_) since.merge(*since_);  // The starting history only grows.
        replica::set_meta(db_, kSinceKey, Value::text(clock_text(since)));
        since_ = std::move(since);
      }
    }
  }
  last_.reset();
  ++noted_;
  auto st = db_.prepare("INSERT INTO ferry_grant_log(device, admin_seq, read, write, relay) VALUES(?, ?, ?, ?, ?)");
  st.bind_blob(1, device.bytes.data(), 16)
      .bind(2, static_cast<std::int64_t>(op.seq))
      .bind(3, scopes_to_json(g.read))
      .bind(4, scopes_to_json(g.write))
      .bind(5, scopes_to_json(g.relay));
  st.run();
}

namespace {

Grant read_grant(const sql::Statement& st, const std::string& where) {
  Grant g;
  g.admin_seq = static_cast<std::uint64_t>(st.integer(0));
  g.read = scopes_from_json(st.text(1), where);
  g.write = scopes_from_json(st.text(2), where);
  g.relay = scopes_from_json(st.text(3), where);
  return g;
}

}  // namespace

const std::optional<Grant>& Fleet::at(const DeviceId& device, std::uint64_t admin_seq) const {
  if (last_ && last_->device == device && last_->admin_seq == admin_seq) return last_->grant;
  last_ = Asked{device, admin_seq, lookup(device, admin_seq)};
  return last_->grant;
}

std::optional<Grant> Fleet::lookup(const DeviceId& device, std::uint64_t admin_seq) const {
  auto st = db_.prepare("SELECT admin_seq, read, write, relay FROM ferry_grant_log WHERE device=? AND admin_seq<=? "
                        "ORDER BY admin_seq DESC LIMIT 1");
  st.bind_blob(1, device.bytes.data(), 16).bind(2, static_cast<std::int64_t>(std::min<std::uint64_t>(admin_seq, INT64_MAX)));
  if (!st.step()) return std::nullopt;
  return read_grant(st, db_.path() + ": ferry_grant_log");
}

const std::optional<Grant>& Fleet::newest(const DeviceId& device) const { return at(device, INT64_MAX); }

std::vector<std::pair<DeviceId, Grant>> Fleet::all() const {
  std::vector<std::pair<DeviceId, Grant>> out;
  auto st = db_.prepare("SELECT admin_seq, read, write, relay, device FROM ferry_grant_log AS g WHERE admin_seq = "
                        "(SELECT max(admin_seq) FROM ferry_grant_log WHERE device = g.device) ORDER BY device");
  while (st.step()) {
    DeviceId id;
    const auto bytes = st.blob_view(4);
    if (bytes.size() != 16) throw Error(Errc::corrupt, db_.path() + ": ferry_grant_log holds a device that is no id");
    std::memcpy(id.bytes.data(), bytes.data(), 16);
    out.emplace_back(id, read_grant(st, db_.path() + ": ferry_grant_log"));
  }
  return out;
}

std::vector<std::uint64_t> Fleet::grant_operations() const {
  std::vector<std::uint64_t> out;
  auto st = db_.prepare("SELECT DISTINCT admin_seq FROM ferry_grant_log ORDER BY admin_seq");
  while (st.step()) out.push_back(static_cast<std::uint64_t>(st.integer(0)));
  return out;
}

std::string Fleet::forbidden(const Operation& op, const DeviceId& writer, log::Store& log) const {
  if (!admin_ || writer == *admin_) return {};
  const std::string what = "operation " + std::to_string(op.seq) + " of " + who(writer) +
                           (op.scope.empty() ? "" : " in scope '" + printable(op.scope) + "'") + " (table '" +
                           printable(op.table) + "')";
  if (op.table == kGrantsTable)
    return what + " changes a grant, which only the fleet's administrator (" + who(*admin_) + ") may do";
  // Before the first grant is held, only the administrator's history up to it gets here (waits()).
  if (!since_ || since_->get(op.origin) >= op.seq) return {};  // Written before the fleet had rules.
  // clock(o)[administrator]: carried whole by format 1; for format 2, the deps
  // entry, else the predecessor's, which the last answer is when the import
  // goes along one chain (no seek per operation).
  std::uint64_t seen = op.clock.get(*admin_);
  if (seen == 0 && op.format >= 2 && op.seq > 1)
    seen = seen_ && seen_->origin == op.origin && seen_->seq + 1 == op.seq ? seen_->seen
                                                                          : log.clock_entry(op.origin, op.seq - 1, *admin_);
  seen_ = Seen{op.origin, op.seq, seen};
  const auto& grant = at(writer, seen);
  if (grant && grant->may_write(op.scope)) return {};
  return what + (op.scope.empty() ? " changes a shared table" : " changes a row of that scope") +
         ", but the device had no grant to write it from the fleet's administrator (" +
         who(*admin_) + ") when it wrote it" +
         (grant ? " (its grant then, the administrator's operation " + std::to_string(grant->admin_seq) +
                      ", did not include it)"
                : "") +
         "; if it was written before the device joined the fleet, the administrator can allow it with `ferry fleet "
         "ITS_DB admit " + op.origin.to_string() + ":" + std::to_string(op.seq) + "`";
}

bool Fleet::may_read(const DeviceId& device, std::string_view scope) const {
  if (!admin_ || device == *admin_ || scope.empty()) return true;
  const auto& grant = newest(device);
  return grant && grant->may_read(scope);
}

bool Fleet::may_receive(const DeviceId& device, std::string_view scope) const {
  if (may_read(device, scope)) return true;
  const auto& grant = newest(device);
  return grant && grant->may_relay(scope);
}

std::string Fleet::may_not_seal(const DeviceId& self, const std::string& table, const std::string& scope) const {
  if (!admin_ || self == *admin_) return {};
  if (table == kGrantsTable)
    return "only the fleet's administrator (" + who(*admin_) + ") changes grants; this change stays here, unsent";
  const auto& grant = newest(self);
  if (grant && grant->may_write(scope)) return {};
  const std::string holder = grant ? "this device's grant" : "this device has no grant yet; its grant";
  if (!scope.empty())
    return holder + " from the fleet's administrator (" + who(*admin_) + ") does not let it write scope '" +
           printable(scope) + "': the change is kept here, unsent, and sent once a grant allows it (ask the "
           "administrator for a grant writing that scope, then import its bundle)";
  return holder + " from the fleet's administrator (" + who(*admin_) + ") does not let it change shared tables: the "
         "change is kept here, unsent, and sent once a grant allows it (ask the administrator to run `ferry fleet DB "
         "grant " + self.to_string() + " --write-shared`, then import its bundle)";
}

}  // namespace ferry::fleet
