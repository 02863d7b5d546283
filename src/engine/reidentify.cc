// Engine::reidentify: a new device identity for a database whose identity is used elsewhere.
#include <unistd.h>

#include "bundle/format.h"
#include "engine/engine_impl.h"
#include "identity/identity.h"
#include "identity/reissue.h"
#include "replica/meta.h"
#include "session/session.h"
#include "trust/keys.h"
#include "util/uuid.h"

namespace ferry {

Reidentified Engine::reidentify() {
  sql::Database& db = impl_->db;
  Reidentified r;
  r.previous = impl_->self;
  r.evidence = replica::reuse_evidence(db).value_or("");
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
    replica::Devices devices(db);
    const replica::Device* found = devices.find(r.previous);
    if (found == nullptr)
      throw Error(Errc::corrupt, db.path() + ": ferry_devices holds no row for this device " + r.previous.to_string() +
                                     " (`ferry verify` says more); its identity was not changed");
    const replica::Device old = *found;
    // What never left is made again under the new identity; the old chain stops where it is shared.
    r.previous_head = identity::shared_head(db, old.no, old.id, old.head_seq);
    auto retire = db.prepare("UPDATE ferry_devices SET trust='added', name=? WHERE no=?");
    retire.bind(1, impl_->name.empty() ? std::string() : impl_->name + " (old identity)").bind(2, old.no);
    retire.run();
    identity::become_device(db, r.device, impl_->name, identity);
    db.exec(std::string("DELETE FROM ferry_meta WHERE key IN ('") + replica::kEvidenceKey + "', '" + replica::kAgreedKey +
            "')");
    const std::vector<Operation> again = identity::reissue_after(db, old.id, r.device, r.previous_head);
    r.reissued = again.size();
    {
      // Then what was captured meanwhile, after them; then the rows they wrote, from their merge state.
      session::Session s(db, r.device);
      s.seal();
      identity::resettle(s, again);
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
