#include "log/chain.h"

#include <cstring>

#include "ferry/error.h"
#include "hash/sha256.h"

namespace ferry::log {

std::string scope_problem(std::string_view scope) {
  const std::string name(scope);
  if (name.size() > kMaxScopeBytes)
    return "the scope name '" + printable(name) + "' is " + std::to_string(name.size()) + " bytes, more than " +
           std::to_string(kMaxScopeBytes);
  if (!name.empty() && name[0] == '*') return "scope names starting with '*' are reserved ('" + printable(name) + "')";
  if (printable(name, kMaxScopeBytes * 4) != name) return "the scope name '" + printable(name) + "' is not plain UTF-8 text";
  return {};
}

DeviceId chain_id(const DeviceId& device, std::string_view scope) {
  if (scope.empty()) return device;
  static constexpr char kTag[] = "ferry-chain";  // With its terminating NUL, as the signed messages' tags.
  const Hash digest = hash::Sha256()
                          .update(kTag, sizeof kTag)
                          .update(device.bytes.data(), device.bytes.size())
                          .update(scope)
                          .finish();
  DeviceId id;
  std::memcpy(id.bytes.data(), digest.data(), id.bytes.size());
  id.bytes[6] = static_cast<std::uint8_t>(0x80 | (id.bytes[6] & 0x0f));  // Version 8: not a device's UUIDv7.
  id.bytes[8] = static_cast<std::uint8_t>(0x80 | (id.bytes[8] & 0x3f));  // The RFC 9562 variant.
  return id;
}

const DeviceId& KnownChains::add(const DeviceId& device, std::string_view scope) {
  const DeviceId id = chain_id(device, scope);
  return names_.try_emplace(id, ChainName{device, std::string(scope)}).first->first;
}

ChainName KnownChains::name(const DeviceId& chain) const {
  const auto found = names_.find(chain);
  if (found != names_.end()) return found->second;
  if (!is_scoped_chain(chain)) return ChainName{chain, ""};  // A device's own id names its shared chain.
  throw Error(Errc::invalid_argument, "chain " + chain.to_string() + " has no known device and scope");
}

std::size_t KnownChains::Hasher::operator()(const DeviceId& id) const noexcept {
  std::size_t h;
  std::memcpy(&h, id.bytes.data() + 8, sizeof h);  // Random bits in both kinds of id.
  return h;
}

}  // namespace ferry::log
