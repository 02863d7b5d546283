#include "identity/reidentify.h"

#include "bundle/format.h"
#include "identity/identity.h"
#include "identity/reissue.h"
#include "log/chain.h"
#include "replica/devices.h"
#include "replica/meta.h"
#include "session/session.h"
#include "trust/store.h"

namespace ferry::identity {

Moved move_to(sql::Database& db, const DeviceId& old_id, const DeviceId& new_id, const std::string& name,
              const trust::Identity& identity, const trust::KeyPair* old_keys) {
  Moved moved;
  replica::Devices devices(db);
  const replica::Device* found = devices.find(old_id);
  if (found == nullptr)
    throw Error(Errc::corrupt, db.path() + ": ferry_devices holds no row for this device " + old_id.to_string() +
                                   " (`ferry verify` says more); its identity was not changed");
  const replica::Device old = *found;
  // What never left is made again under the new identity; the old chain stops where it is shared.
  moved.previous_head = shared_head(db, devices, old.no, old.id, old.head_seq);
  trust::Store(db).retire(old, name.empty() ? std::string() : name + " (old identity)");
  become_device(db, new_id, name, identity);
  replica::clear_reuse_evidence(db);
  std::vector<Operation> again = reissue_after(db, old.id, new_id, moved.previous_head);
  // Its chains of a scope move the same way, each from where it is shared (format4.md §12.9).
  std::vector<std::pair<DeviceId, std::string>> scoped;
  auto own = db.prepare("SELECT chain, scope FROM ferry_chain_names WHERE owner=?");
  own.bind(1, old.no);
  while (own.step()) scoped.emplace_back(devices.by_no(own.integer(0)).id, own.text(1));
  for (const auto& [chain, scope] : scoped) {
    replica::Devices now(db);
    const std::uint64_t keep = scoped_shared_head(db, now, *now.find(chain));
    const ScopeMove move{old.id, new_id, scope, moved.previous_head};
    for (Operation& op : reissue_after(db, chain, log::chain_id(new_id, scope), keep, &move)) again.push_back(std::move(op));
  }
  moved.reissued = again.size();
  {
    // Then what was captured meanwhile, after them; then the rows they wrote, from their merge state.
    session::Session s(db, new_id);
    s.seal();
    resettle(s, again);
    if (old_keys != nullptr && moved.previous_head > 0) {
      // Signed once more with the old key, so that this database can pass on what it holds of the old chain.
      const Hash head = s.devices.head_hash(*s.devices.find(old.id));
      const Signature signature = old_keys->sign(bundle::head_message(old.id, moved.previous_head, head));
      trust::Store(db).keep_signed_head(old.no, moved.previous_head, signature);
    }
    s.finish();
  }
  return moved;
}

}  // namespace ferry::identity
