#pragma once
// The names of the chains this database holds (log/chain.h), kept by
// replica::Devices: a chain of a scope is numbered in ferry_devices by its
// derived id, and ferry_chain_names says whose it is and of which scope.

#include <string_view>

#include "log/chain.h"
#include "replica/devices.h"

namespace ferry::log {

class StoredChains final : public ChainNames {
 public:
  explicit StoredChains(replica::Devices& devices) : devices_(devices) {}
  // The chain of `device` in `scope`, and the device, registered when
  // unknown. Throws Error(corrupt) for a scope that cannot name a chain and
  // for a device id of the form of a scope's chain.
  replica::Device& ensure(const DeviceId& device, std::string_view scope);
  // Throws Error(invalid_argument) for a chain this database does not hold.
  ChainName name(const DeviceId& chain) const override;

 private:
  replica::Devices& devices_;
};

}  // namespace ferry::log
