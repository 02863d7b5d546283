#include "log/stored_chains.h"

#include "ferry/error.h"

namespace ferry::log {

replica::Device& StoredChains::ensure(const DeviceId& device, std::string_view scope) {
  if (is_scoped_chain(device))
    throw Error(Errc::corrupt, "device " + device.to_string() + " has an id of the form of a scope's chain (version 8)");
  if (scope.empty()) return devices_.ensure(device);
  if (const std::string why = scope_problem(scope); !why.empty()) throw Error(Errc::corrupt, why);
  const replica::Device& owner = devices_.ensure(device);
  return devices_.ensure_scoped(chain_id(device, scope), owner, std::string(scope));
}

ChainName StoredChains::name(const DeviceId& chain) const {
  const replica::Device* held = devices_.find(chain);
  if (held == nullptr) throw Error(Errc::invalid_argument, "chain " + chain.to_string() + " is not held here");
  const auto [owner, scope] = devices_.name_of(*held);
  return ChainName{owner->id, std::string(scope)};
}

}  // namespace ferry::log
