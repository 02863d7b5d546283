#pragma once
// The trust store: which devices this database accepts operations from, and
// with which keys (bundle_format/README.md, "Signatures"). It lives in the
// database: ferry_devices holds each device's pinned keys and trust, ferry_heads
// the chain heads origins signed (so this device can relay their operations),
// ferry_forks the evidence of forked histories; ferry_meta the policy.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/reports.h"
#include "replica/devices.h"
#include "sql/database.h"
#include "trust/keys.h"

namespace ferry::trust {

class Store {
 public:
  explicit Store(sql::Database& db) : db_(db) {}

  bool strict();
  void set_strict(bool strict);

  // This device's public keys, as init stored them.
  Identity self_identity();
  std::optional<Identity> identity(const DeviceId& device);
  Trust trust_of(const DeviceId& device);

  // Checks the exporter and every origin of a bundle whose signatures the
  // reader verified: a device this database removed, or whose key differs from
  // the pinned one, or (policy strict) that it does not know, refuses the
  // bundle with Error(untrusted). Under trust on first use, pins the keys of
  // devices seen for the first time and returns them.
  std::vector<PeerInfo> admit(const BundleInfo& info, const std::string& shown, replica::Devices& devices);
  // Keeps the bundle's head signatures, to pass them on with the operations.
  void remember_heads(const BundleInfo& info, replica::Devices& devices, const DeviceId& self);
  // The greatest seq <= up_to at which `device_no`'s chain head was signed, and that signature.
  std::optional<std::pair<std::uint64_t, Signature>> signed_head(std::int64_t device_no, std::uint64_t up_to);
  // Keeps `signature` as device `device_no`'s signature of its chain up to `seq`, replacing any.
  void keep_signed_head(std::int64_t device_no, std::uint64_t seq, const Signature& signature);

  // `trust add`: pins `identity` (a box key of zeros: only the signing key is
  // known) for the device, replacing any earlier key, and marks it added.
  void add(replica::Devices& devices, const DeviceId& device, const Identity& identity, const std::string& name);
  // `trust remove`: its operations are refused from now on; its key stays pinned.
  void remove(const replica::Device& device);
  // This database's former own identity becomes an ordinary device here ('added'), named `name`.
  void retire(const replica::Device& device, const std::string& name);
  PeerInfo describe(const replica::Device& device);

  void record_fork(const ForkEvidence& evidence);
  std::vector<ForkEvidence> forks();
  // Forgets the fork evidence of `device` (its chain was forgotten, identity/forget.h).
  void drop_forks(const DeviceId& device);

 private:
  void check(const std::string& shown, replica::Devices& devices, const DeviceId& device, const PublicKey& sign,
             const PublicKey* box, const std::string& name, std::vector<PeerInfo>& pinned);
  sql::Database& db_;
};

}  // namespace ferry::trust
