// Finding that this database's device identity is used elsewhere, and
// stopping the seal until it has a new one (engine/reidentify.cc gives it one).
#include "identity/identity.h"

#include <algorithm>

#include "replica/meta.h"
#include "trust/keys.h"

namespace ferry::identity {

using replica::kAgreedKey;
using replica::kEvidenceKey;
using replica::kSentKey;
using replica::reuse_evidence;
using replica::set_meta;

namespace {

std::string exporter_words(const BundleInfo& info) {
  return "its exporter, device " + info.exporter.to_string() +
         (info.exporter_name.empty() ? "" : " (" + printable(info.exporter_name) + ")");
}

std::string what_to_do(const std::string& db_path) {
  return "ferry seals nothing more here until you run `ferry reidentify " + db_path +
         "`: it gives this database a new device identity. Changes made here are kept (they wait, captured, until "
         "then), and the operations it lacks come back from the other devices.";
}

}  // namespace

IdentityReused::IdentityReused(const std::string& shown, const std::string& db_path, const std::string& evidence_,
                               std::uint64_t agreed_)
    : Error(Errc::refused, shown + ": " + evidence_ + ": " + db_path +
                               " is an older or a second copy of this device's database (restored from a backup, "
                               "copied to another machine, or a VM rolled back), so changes sealed here would clash "
                               "with operations the device made elsewhere. Nothing was imported. " +
                               what_to_do(db_path)),
      evidence(evidence_),
      agreed(agreed_) {}

void check_own_chain(const BundleInfo& info, const replica::Device& self, log::Store& log, const std::string& shown,
                     const std::string& db_path) {
  // How far the bundle's version of this chain is provably this one: the hashes agree there.
  std::uint64_t agreed = 0;
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    const SeqRange& r = info.ranges[i];
    if (r.device != self.id) continue;
    if (r.first > 1 && r.first - 1 <= self.head_seq && log.hash(self.id, r.first - 1) == info.prerequisites[i])
      agreed = std::max(agreed, r.first - 1);
    if (r.last <= self.head_seq && log.hash(self.id, r.last) == info.last_hashes[i]) agreed = std::max(agreed, r.last);
  }
  const std::uint64_t claimed = info.clock.get(self.id);
  if (claimed > self.head_seq)
    throw IdentityReused(shown, db_path,
                         exporter_words(info) + ", holds operations of this device up to " + std::to_string(claimed) +
                             ", but this database holds them only up to " + std::to_string(self.head_seq),
                         agreed);
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    const SeqRange& r = info.ranges[i];
    if (r.device != self.id) continue;
    if (r.last > self.head_seq)
      throw IdentityReused(shown, db_path,
                           "it carries operations " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                               " of this device, which this database never made (it holds up to " +
                               std::to_string(self.head_seq) + ")",
                           agreed);
    if (log.hash(self.id, r.last) != info.last_hashes[i])
      throw IdentityReused(shown, db_path,
                           "its operation " + std::to_string(r.last) + " of this device differs from the one this "
                           "database made under that number",
                           agreed);
  }
}

void check_own_scoped_chains(const BundleInfo& info, const DeviceId& self, replica::Devices& devices, log::Store& log,
                             const std::string& shown, const std::string& db_path) {
  for (const ScopedChain& c : info.scoped_chains) {
    if (c.device != self) continue;
    const replica::Device* chain = devices.find(c.chain);
    const std::uint64_t head = chain == nullptr ? 0 : chain->head_seq;
    const std::uint64_t held = std::max(head, chain == nullptr ? 0 : devices.purged_head(*chain));
    const std::string which = "this device's chain of scope '" + printable(c.scope) + "'";
    if (const std::uint64_t claimed = info.clock.get(c.chain); claimed > held)
      throw IdentityReused(shown, db_path,
                           exporter_words(info) + ", holds operations of " + which + " up to " +
                               std::to_string(claimed) + ", but this database holds them only up to " +
                               std::to_string(held),
                           0);
    for (std::size_t i = 0; i < info.ranges.size(); ++i) {
      const SeqRange& r = info.ranges[i];
      if (r.device != c.chain) continue;
      if (r.last > held)
        throw IdentityReused(shown, db_path,
                             "it carries operations " + std::to_string(r.first) + "-" + std::to_string(r.last) + " of " +
                                 which + ", which this database never made (it holds up to " + std::to_string(held) + ")",
                             0);
      if (r.last <= head && log.hash(c.chain, r.last) != info.last_hashes[i])
        throw IdentityReused(shown, db_path,
                             "its operation " + std::to_string(r.last) + " of " + which + " differs from the one this "
                             "database made under that number",
                             0);
    }
  }
}

void become_device(sql::Database& db, const DeviceId& id, const std::string& name, const trust::Identity& identity) {
  auto add = db.prepare("INSERT INTO ferry_devices(id, name, sign_key, box_key, trust) VALUES(?, ?, ?, ?, 'self')");
  add.bind_blob(1, id.bytes.data(), 16).bind(2, name).bind_blob(3, identity.sign.data(), 32).bind_blob(
      4, identity.box.data(), 32);
  add.run();
  auto blob = [](const std::uint8_t* p, std::size_t n) { return Value::blob(Bytes(p, p + n)); };
  set_meta(db, "device_id", blob(id.bytes.data(), id.bytes.size()));
  set_meta(db, "sign_key", blob(identity.sign.data(), identity.sign.size()));
  set_meta(db, "box_key", blob(identity.box.data(), identity.box.size()));
  set_meta(db, kSentKey, Value::integer(0));
}

void keep_reuse_evidence(sql::Database& db, const std::string& bundle, const IdentityReused& reused) {
  sql::Transaction tx(db);
  if (!reuse_evidence(db)) {  // The first one found says it.
    set_meta(db, kEvidenceKey, Value::text(bundle + ": " + reused.evidence));
    set_meta(db, kAgreedKey, Value::integer(static_cast<std::int64_t>(reused.agreed)));
  }
  tx.commit();
}

void require_own_identity(sql::Database& db) {
  if (const auto evidence = reuse_evidence(db))
    throw Error(Errc::refused, db.path() + ": an import found that another database uses this device's identity (" +
                                   *evidence + "). " + what_to_do(db.path()));
}

}  // namespace ferry::identity
