#pragma once
// When two databases are one device: a database restored from a backup, copied
// to another machine or rolled back with its VM holds an older state of its
// device's chain, while the device's later operations live on elsewhere. The
// next change sealed here would take a sequence number the device already used
// for another operation: a fork to every receiver, or a change that never
// leaves. An import finds the evidence (another device holds more of this
// device's chain than this database, or another version of it), refuses the
// bundle and keeps the evidence; from then on nothing is sealed here until
// Engine::reidentify gives this database a new device identity.

#include <cstdint>
#include <optional>
#include <string>

#include "ferry/error.h"
#include "ferry/reports.h"
#include "log/store.h"
#include "sql/database.h"
#include "trust/keys.h"

namespace ferry::identity {

// The refusal of an import that found this database's identity in use
// elsewhere; `evidence` (one sentence) is what Engine::import_bundle keeps.
class IdentityReused : public Error {
 public:
  IdentityReused(const std::string& shown, const std::string& db_path, const std::string& evidence,
                 std::uint64_t agreed);
  std::string evidence;
  std::uint64_t agreed;  // How far the bundle showed this device's chain to be the same as here.
};

// Throws IdentityReused if the bundle described by `info` shows more of this
// device's (`self`'s) chain than this database holds, or another version of it:
// in its exporter's clock, in the operations it carries or in their hashes.
// Call before anything is sealed. `shown` names the bundle.
void check_own_chain(const BundleInfo& info, const replica::Device& self, log::Store& log, const std::string& shown,
                     const std::string& db_path);

// The same for this device's chains of a scope the bundle names
// (format4.md §12.9): an exporter holding more of one than this database
// holds or held before the scope was removed here (exchange/purge.h), or
// another version of it. REQUIRES: the bundle's chains named in `devices`.
void check_own_scoped_chains(const BundleInfo& info, const DeviceId& self, replica::Devices& devices, log::Store& log,
                             const std::string& shown, const std::string& db_path);

// Makes `id`, with the public keys of `identity`, this database's own device:
// its row in ferry_devices (trust 'self') and ferry_meta's device_id, sign_key
// and box_key, with nothing of its chain sent yet. Used by init and by reidentify.
void become_device(sql::Database& db, const DeviceId& id, const std::string& name, const trust::Identity& identity);

// Keeps `reused`'s evidence in a transaction of its own (the import rolled back).
void keep_reuse_evidence(sql::Database& db, const std::string& bundle, const IdentityReused& reused);
// Throws Error(refused) with the evidence and what to do, while evidence is kept.
void require_own_identity(sql::Database& db);

}  // namespace ferry::identity
