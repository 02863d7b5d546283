#pragma once
// Chains and their names (bundle_format/format4.md §2, §12.9).
//
// A chain is what one device writes in one scope. Everything below the codec
// keys a chain by a 16-byte id, as it keyed a device before scopes:
//
//   chain_id(device, "")    = device                       -- the shared scope
//   chain_id(device, scope) = SHA-256("ferry-chain\0" ‖ device ‖ scope)[0..16)
//                             with version 8 and the RFC 9562 variant set
//
// A device id is a UUIDv7, so no derived id equals one. The codec maps an
// operation's (device, scope) names to chain ids when it decodes, and back,
// through ChainNames, when it encodes.

#include <string>
#include <string_view>
#include <unordered_map>

#include "ferry/ids.h"

namespace ferry::log {

// A scope name: UTF-8 text of at most kMaxScopeBytes; "" is the shared scope.
// Names starting with '*' are reserved (grants use "*" for every scope).
constexpr std::size_t kMaxScopeBytes = 128;

// Why `scope` cannot name a chain's scope; empty when it can.
std::string scope_problem(std::string_view scope);

DeviceId chain_id(const DeviceId& device, std::string_view scope);
// True for an id chain_id derives for a scope other than the shared one. A
// device id never is: a reader refuses one that claims to be a device.
inline bool is_scoped_chain(const DeviceId& id) { return (id.bytes[6] >> 4) == 8; }

// What a chain id stands for: the device whose key signs the chain, and its scope.
struct ChainName {
  DeviceId device;
  std::string scope;
};

// Gives the name of a chain id. Throws Error(invalid_argument) for an id it
// does not know (a caller's mistake: every chain an encoder meets was named
// when it entered the database).
class ChainNames {
 public:
  virtual ~ChainNames() = default;
  virtual ChainName name(const DeviceId& chain) const = 0;
};

// The names a piece of code has at hand, checked as they are added: a name
// whose chain_id is not its id is refused.
class KnownChains final : public ChainNames {
 public:
  // Returns the chain id of (device, scope), remembered from then on.
  const DeviceId& add(const DeviceId& device, std::string_view scope);
  ChainName name(const DeviceId& chain) const override;

 private:
  struct Hasher {
    std::size_t operator()(const DeviceId& id) const noexcept;
  };
  std::unordered_map<DeviceId, ChainName, Hasher> names_;
};

}  // namespace ferry::log
