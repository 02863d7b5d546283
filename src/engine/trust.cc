// Engine's trust methods: this device's keys, and which devices it accepts
// operations from (trust/store.h).
#include <unistd.h>

#include <exception>

#include "engine/engine_impl.h"
#include "identity/forget.h"
#include "replica/devices.h"
#include "session/session.h"
#include "trust/store.h"
#include "util/files.h"

namespace ferry {

const trust::KeyPair& Engine::Impl::key_pair() {
  if (!keys) {
    const std::string path = trust::key_path(db.path()), next = trust::next_key_path(db.path());
    std::optional<trust::KeyPair> found;
    try {
      found.emplace(trust::KeyPair::load(path, self));
    } catch (const Error&) {
      // `ferry reidentify` committed a new identity and was stopped before its key replaced the old one.
      const std::exception_ptr first = std::current_exception();
      if (::access(next.c_str(), F_OK) != 0) throw;
      try {
        found.emplace(trust::KeyPair::load(next, self));
      } catch (const Error&) {
        std::rethrow_exception(first);  // Not that: the key file's own problem is the one to report.
      }
      util::publish(next, path, "device key");
    }
    trust::KeyPair loaded = std::move(*found);
    if (loaded.identity() != trust::Store(db).self_identity())
      throw Error(Errc::refused, path + ": holds keys that are not the ones " + db.path() + " was given at `ferry init`; "
                                        "restore this device's own key file");
    keys.emplace(std::move(loaded));
  }
  return *keys;
}

std::string Engine::public_key() { return trust::to_text(trust::Store(impl_->db).self_identity()); }

TrustAdded Engine::trust_add(const std::string& device, const std::string& public_key, const std::string& name,
                             bool forget_held) {
  auto identity = trust::parse_identity(public_key);
  if (!identity && public_key.size() == 64) identity = trust::parse_identity(public_key + std::string(64, '0'));
  if (!identity)
    throw Error(Errc::invalid_argument, "'" + public_key.substr(0, 140) + "' is not a device key: give the 128 hex digits "
                                        "`ferry status` shows on that device (or the first 64, its signing key)");
  sql::Database& db = impl_->db;
  sql::Transaction tx(db);
  session::Session s(db, impl_->self);
  const auto id = Uuid::parse(device);
  const DeviceId target = id ? *id : s.devices.lookup(device).id;
  trust::Store store(db);
  const auto held = store.identity(target);
  store.add(s.devices, target, *identity, name);  // Refuses this device's own id.
  TrustAdded r;
  r.replaced = held && held->sign != identity->sign;
  const replica::Device* d = s.devices.find(target);
  if (r.replaced && d != nullptr && d->head_seq > 0) {
    const std::string numbers = d->head_seq == 1 ? "operation 1" : "operations 1-" + std::to_string(d->head_seq);
    if (!forget_held)
      throw Error(Errc::refused,
                  db.path() + " holds " + numbers + " of device " + target.to_string() + ", admitted under the key "
                  "pinned for it until now, " + trust::fingerprint(target, held->sign) + ". If the key given is the "
                  "device's own (its owner read it from `ferry status`), those operations are not its: someone else "
                  "signed them first (trust on first use pinned their key), or a wrong key was added. To let the "
                  "device's own operations in, run this again with --forget: its " + numbers + " leave " + db.path() +
                  ", the rows they wrote go back to what the other devices wrote, and every other change stays. "
                  "`ferry log " + db.path() + " --device " + target.to_string() + "` lists them. Nothing was changed.");
    s.seal();
    r = identity::forget_chain(s, target);
    r.replaced = true;
  }
  if (r.replaced) r.previous_fingerprint = trust::fingerprint(target, held->sign);
  s.finish();
  tx.commit();
  return r;
}

void Engine::trust_remove(const std::string& device) {
  sql::Transaction tx(impl_->db);
  replica::Devices devices(impl_->db);
  trust::Store(impl_->db).remove(devices.lookup(device));
  tx.commit();
}

std::vector<PeerInfo> Engine::trusted() {
  replica::Devices devices(impl_->db);
  trust::Store store(impl_->db);
  std::vector<PeerInfo> out;
  for (const replica::Device& d : devices.all()) {
    PeerInfo p = store.describe(d);
    if (p.public_key.empty() && p.trust != Trust::removed) continue;
    out.insert(p.is_self ? out.begin() : out.end(), std::move(p));
  }
  return out;
}

void Engine::set_strict(bool strict) {
  sql::Transaction tx(impl_->db);
  trust::Store(impl_->db).set_strict(strict);
  tx.commit();
}

bool Engine::strict() { return trust::Store(impl_->db).strict(); }

}  // namespace ferry
