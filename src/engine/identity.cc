// Finding that this database's device identity is used elsewhere, stopping
// the seal until it has a new one, and Engine::reidentify, which gives it one.
#include "engine/identity.h"

#include <unistd.h>

#include <algorithm>

#include "bundle/format.h"
#include "engine/engine_impl.h"
#include "engine/reissue.h"
#include "engine/schema.h"
#include "engine/session.h"
#include "trust/keys.h"
#include "util/files.h"
#include "util/uuid.h"

namespace ferry::engine {
namespace {

std::string exporter_words(const BundleInfo& info) {
  return "its exporter, device " + info.exporter.to_string() +
         (info.exporter_name.empty() ? "" : " (" + bundle::shown(info.exporter_name) + ")");
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

void check_own_chain(const BundleInfo& info, const Device& self, log::Store& log, const std::string& shown,
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

std::optional<std::string> reuse_evidence(sql::Database& db) {
  const auto v = get_meta(db, kEvidenceKey);
  if (!v || v->type() != Value::Type::text) return std::nullopt;
  return v->as_text();
}

std::uint64_t reuse_agreed(sql::Database& db) { return get_meta_count(db, kAgreedKey, 0); }

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

}  // namespace ferry::engine

namespace ferry {

Reidentified Engine::reidentify() {
  sql::Database& db = impl_->db;
  Reidentified r;
  r.previous = impl_->self;
  r.evidence = engine::reuse_evidence(db).value_or("");
  const trust::KeyPair* old_keys = nullptr;
  try {
    old_keys = &impl_->key_pair();
  } catch (const Error& e) {
    if (e.code() != Errc::not_found) throw;  // A lost key is one more reason for a new identity.
  }
  const trust::KeyPair keys = trust::KeyPair::generate();
  const trust::Identity identity = keys.identity();
  r.device = util::make_uuid_v7(util::now_ms());
  r.public_key = trust::to_text(identity);
  r.fingerprint = trust::fingerprint(r.device, identity.sign);
  const std::string next_key_file = trust::next_key_path(db.path());
  {
    sql::Transaction tx(db);
    engine::Devices devices(db);
    const engine::Device* found = devices.find(r.previous);
    if (found == nullptr)
      throw Error(Errc::corrupt, db.path() + ": ferry_devices holds no row for this device " + r.previous.to_string() +
                                     " (`ferry verify` says more); its identity was not changed");
    const engine::Device old = *found;
    // What never left is made again under the new identity; the old chain stops where it is shared.
    r.previous_head = engine::shared_head(db, old.no, old.id, old.head_seq);
    auto retire = db.prepare("UPDATE ferry_devices SET trust='added', name=? WHERE no=?");
    retire.bind(1, impl_->name.empty() ? std::string() : impl_->name + " (old identity)").bind(2, old.no);
    retire.run();
    engine::become_device(db, r.device, impl_->name, identity);
    db.exec(std::string("DELETE FROM ferry_meta WHERE key IN ('") + engine::kEvidenceKey + "', '" + engine::kAgreedKey +
            "')");
    const std::vector<Operation> again = engine::reissue_after(db, old.id, r.device, r.previous_head);
    r.reissued = again.size();
    {
      // Then what was captured meanwhile, after them; then the rows they wrote, from their merge state.
      engine::Session s(db, r.device);
      s.seal();
      engine::resettle(s, again);
      if (old_keys != nullptr && r.previous_head > 0) {
        // Signed once more with the old key, so that this database can pass on what it holds of the old chain.
        const Hash head = s.devices.find(old.id)->head_hash;
        const Signature signature = old_keys->sign(bundle::head_message(old.id, r.previous_head, head));
        auto sign = db.prepare("INSERT OR REPLACE INTO ferry_heads(device, seq, signature) VALUES(?, ?, ?)");
        sign.bind(1, old.no).bind(2, static_cast<std::int64_t>(r.previous_head)).bind_blob(3, signature.data(), 64);
        sign.run();
      }
      s.finish();
    }
    // The new key waits beside the old one until the commit; Impl::key_pair() finishes the swap if a crash stops it.
    keys.save(next_key_file, r.device);
    try {
      tx.commit();
    } catch (...) {
      ::unlink(next_key_file.c_str());
      throw;
    }
  }
  impl_->self = r.device;
  impl_->keys.reset();
  try {
    (void)impl_->key_pair();  // Moves the new key into place.
  } catch (const Error& e) {
    throw Error(e.code(), db.path() + ": is now device " + r.device.to_string() + ", but its new key could not "
                          "replace the old one yet; it waits in " + next_key_file + " and takes its place the next "
                          "time ferry needs it (" + e.what() + ")");
  }
  return r;
}

}  // namespace ferry
