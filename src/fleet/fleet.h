#pragma once
// The fleet: the device that administers it and what each device may write
// (bundle_format/format4.md §12.3).
//
// A database that pinned no administrator is in no fleet, and every rule here
// answers "allowed". In a fleet, grants are ordinary operations of the
// administrator's chain on the tracked table ferry_grants, so they travel,
// verify, order and deduplicate as every operation does. What this class adds
// is their history: each grant operation that enters the log (sealed by the
// administrator, or imported) is noted in ferry_grant_log under (device,
// administrator's seq), so that an operation is judged by the grant its
// writer held -- the newest one at or below its clock's entry for the
// administrator -- and every receiver judges it the same, whenever it imports.
//
//   allowed(o) := origin(o) = administrator
//              or o lies within the fleet's starting history (`since`, a clock
//                 the administrator's own grant row carries: what was written
//                 before the fleet had rules)
//              or the grant of origin(o) at clock(o)[administrator] lists the
//                 scope of o (or "*") in `write`, and o is not on ferry_grants.
//
// Until the administrator's first grant (the one carrying `since`) is held,
// another device's operation can be judged only when the administrator's
// history up to that grant follows it (it is then within `since`); any
// other waits in ferry_pending (the importer's readiness).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/operation.h"
#include "log/store.h"
#include "sql/database.h"

namespace ferry::fleet {

// The table whose rows are grants: (device BLOB, read, write, relay TEXT: scope
// lists; since TEXT: a clock "DEVICE-ID:SEQ,...", in the administrator's own row).
constexpr const char* kGrantsTable = "ferry_grants";
// Scope names in grants: "*" is every scope, "" the shared one (the scope of
// every table tracked without a scope expression). Other names starting with
// "*" are reserved.
constexpr const char* kEveryScope = "*";
constexpr std::size_t kMaxScopes = 4096;  // Names in one list of a grant.

struct Grant {
  std::vector<std::string> read, write, relay;  // Sorted by bytes, each name once.
  std::uint64_t admin_seq = 0;                  // The administrator's operation that made it.
  bool may_write(std::string_view scope) const;
  // Reading a scope: the shared one always; another when `read` or `write`
  // lists it (a device that may write a scope holds it). Relaying: `relay`.
  bool may_read(std::string_view scope) const;
  bool may_relay(std::string_view scope) const;
  bool revoked() const { return read.empty() && write.empty() && relay.empty(); }
};

// A scope list as grants store it: a JSON array of distinct names sorted by
// bytes. Throws Error(invalid_argument) for a name that is not one (empty
// entries aside, which name the shared scope), naming it.
std::string scopes_to_json(std::vector<std::string> scopes);
// The strict reverse: exactly what scopes_to_json writes, or Error(refused)
// naming `where` and what is wrong.
std::vector<std::string> scopes_from_json(std::string_view text, const std::string& where);
// "DEVICE-ID:SEQ,..." (VectorClock::parse's form), empty for an empty clock.
std::string clock_text(const VectorClock& clock);

class Fleet {
 public:
  // Reads the administrator and the starting history from ferry_meta.
  explicit Fleet(sql::Database& db);

  const std::optional<DeviceId>& administrator() const { return admin_; }
  // True once the administrator's first grant is held (or in no fleet).
  bool started() const { return !admin_ || since_.has_value(); }

  // Makes `admin` this database's administrator (ferry_meta) and creates
  // ferry_grants; the caller tracks it. REQUIRES: inside a write transaction.
  static void set_up(sql::Database& db, const DeviceId& admin);

  // Why `op`, about to be sealed here by the administrator, is not a grant
  // this ferry could read back; empty when it is (or is no grant).
  std::string unreadable_grant(const Operation& op) const;
  // Records a grant `op` makes, if it is one (the administrator's, on
  // ferry_grants): call for every operation that enters the log, after it does.
  void note(const Operation& op);

  // The grant `device` held once the administrator's operations up to
  // `admin_seq` were made; none if it had none. Valid until the next call.
  const std::optional<Grant>& at(const DeviceId& device, std::uint64_t admin_seq) const;
  const std::optional<Grant>& newest(const DeviceId& device) const;
  // Every device's newest grant, by device id.
  std::vector<std::pair<DeviceId, Grant>> all() const;
  // The administrator's operations that made grants, by seq: what a snapshot
  // carries beside the current state, so that its receiver knows every grant
  // as it was made.
  std::vector<std::uint64_t> grant_operations() const;

  // An operation of another device that cannot be judged yet, unless the
  // administrator's history up to its first grant follows it.
  bool waits(const Operation& op) const { return admin_ && !since_ && op.origin != *admin_; }
  // Why `op`, whose chain's predecessor is held here, may not be applied;
  // empty when it may. REQUIRES: !waits(op), or `op` is in the
  // administrator's history up to its first grant.
  // `writer`: the device whose chain `op` is of (its origin, or for a chain of
  // a scope the chain's device, format4.md §12.9).
  std::string forbidden(const Operation& op, const DeviceId& writer, log::Store& log) const;
  // Whether `device` may read `scope`, or read or relay it, by its newest
  // grant held here: always in no fleet, for the administrator, and for the
  // shared scope; never, for another scope, by a device with no grant
  // (format4.md §12.4).
  bool may_read(const DeviceId& device, std::string_view scope) const;
  bool may_receive(const DeviceId& device, std::string_view scope) const;
  // How many grants note() has recorded in this session: answers cached by
  // a caller hold while it does not change.
  std::uint64_t grants_noted() const { return noted_; }
  // Why this device may not seal a change to `table` in `scope` (the row's); empty when it may.
  std::string may_not_seal(const DeviceId& self, const std::string& table, const std::string& scope = "") const;

 private:
  std::optional<Grant> lookup(const DeviceId& device, std::uint64_t admin_seq) const;

  sql::Database& db_;
  std::optional<DeviceId> admin_;
  std::optional<VectorClock> since_;
  std::uint64_t noted_ = 0;
  // at()'s last answer: a seal or an import asks the same many times in a row
  // (one device, one point of the administrator's chain). note() clears it.
  struct Asked {
    DeviceId device;
    std::uint64_t admin_seq;
    std::optional<Grant> grant;
  };
  mutable std::optional<Asked> last_;
  // forbidden()'s last operation and the administrator's entry of its whole clock.
  struct Seen {
    DeviceId origin;
    std::uint64_t seq, seen;
  };
  mutable std::optional<Seen> seen_;
};

}  // namespace ferry::fleet
