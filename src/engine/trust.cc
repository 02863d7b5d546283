// Engine's trust methods: this device's keys, and which devices it accepts
// operations from (trust/store.h).
#include <unistd.h>

#include <exception>

#include "engine/engine_impl.h"
#include "engine/devices.h"
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

void Engine::trust_add(const std::string& device, const std::string& public_key, const std::string& name) {
  auto identity = trust::parse_identity(public_key);
  if (!identity && public_key.size() == 64) identity = trust::parse_identity(public_key + std::string(64, '0'));
  if (!identity)
    throw Error(Errc::invalid_argument, "'" + public_key.substr(0, 140) + "' is not a device key: give the 128 hex digits "
                                        "`ferry status` shows on that device (or the first 64, its signing key)");
  sql::Transaction tx(impl_->db);
  engine::Devices devices(impl_->db);
  const auto id = Uuid::parse(device);
  const DeviceId target = id ? *id : devices.lookup(device).id;
  trust::Store(impl_->db).add(devices, target, *identity, name);
  tx.commit();
}

void Engine::trust_remove(const std::string& device) {
  sql::Transaction tx(impl_->db);
  engine::Devices devices(impl_->db);
  trust::Store(impl_->db).remove(devices.lookup(device));
  tx.commit();
}

std::vector<PeerInfo> Engine::trusted() {
  engine::Devices devices(impl_->db);
  trust::Store store(impl_->db);
  std::vector<PeerInfo> out;
  for (const auto& [no, d] : devices.all()) {
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

}  // namespace ferry
