// Engine::reidentify: a new device identity for a database whose identity is used elsewhere.
#include <unistd.h>

#include "engine/engine_impl.h"
#include "fleet/fleet.h"
#include "identity/reidentify.h"
#include "replica/meta.h"
#include "trust/keys.h"
#include "util/uuid.h"

namespace ferry {

Reidentified Engine::reidentify() {
  sql::Database& db = impl_->db;
  if (fleet::Fleet(db).administrator() == impl_->self)
    throw Error(Errc::refused, db.path() + ": administers a fleet, whose members accept grants from this identity only; "
                                           "it cannot take a new one (format4.md §12 leaves handing a fleet on for later)");
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
    const identity::Moved moved = identity::move_to(db, r.previous, r.device, impl_->name, identity, old_keys);
    r.previous_head = moved.previous_head;
    r.reissued = moved.reissued;
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
