#pragma once
// Export, step 1: the plan -- which ranges of which chains a peer lacks, each
// vouched for by its origin's signature, or a snapshot's chain heads and the
// operations the current state depends on -- and who the bundle is encrypted
// for (bundle_format/README.md §5 and §9).

#include <algorithm>
#include <optional>
#include <utility>

#include "exchange/snapshot.h"
#include "ferry/engine.h"
#include "session/session.h"
#include "trust/keys.h"
#include "trust/store.h"

namespace ferry::exchange {

struct ExportPlan {
  BundleInfo info;          // The header, ranges and signatures, before the writer adds its counts.
  VectorClock whole_clock;  // This database's clock: info.clock may hold only what differs from a reference.
  OperationKeys snapshot;   // A snapshot's operations; empty for a delta.
  // Chains only the deps of the operations going out name (bundle::Chains::of).
  std::vector<DeviceId> also_named;
  // The chains whose one range holds only the peer's own newest operation of
  // it (a receipt): its own chain, and its chains of a scope.
  std::vector<DeviceId> receipts;
  const replica::Device* peer = nullptr;  // The device it is for, if named.
  // Chains of scopes that device may neither read nor relay (sorted): nothing
  // of them goes in the bundle (format4.md §12.4).
  std::vector<DeviceId> withheld;
  bool withholds(const DeviceId& chain) const { return std::binary_search(withheld.begin(), withheld.end(), chain); }
  std::optional<std::pair<DeviceId, PublicKey>> encrypt_for;
};

// Plans a bundle of what the peer of `options` lacks (or a snapshot), signed
// with `keys`. REQUIRES: inside the export's transaction, captured changes sealed.
// Throws Error(invalid_argument) for a bundle for nobody or for this device,
// Error(refused) when a range cannot be vouched for.
ExportPlan plan_export(session::Session& s, trust::Store& store, const trust::KeyPair& keys, const std::string& self_name,
                       const ExportOptions& options);

// The pieces of plan_export, for a plan cut into parts (exchange/export_parts.h):
//
// Where each range of info ends and who vouches for it (info.origin_keys and
// info.head_signatures, appended): this device signs its own head now; another
// device's operations go out only up to a head that device signed (kept from
// the bundle that brought them), so a receiver can check every one. A chain of
// a scope is its device's, which signs its head (format4.md §12.6). Throws
// Error(refused) for a range ending where its origin signed no head.
void sign_ranges(session::Session& s, trust::Store& store, const trust::KeyPair& keys, BundleInfo& info);
// The hash of operation `seq` of `d`'s chain, held in the log or waiting here
// in the pending run after it; Error(corrupt) when neither holds it.
Hash held_hash(session::Session& s, const replica::Device& d, std::uint64_t seq);
// The chains the plan's bundle names beyond its clock and ranges (also_named)
// and the names of its chains of a scope, with the minor version they need.
void name_chains(session::Session& s, ExportPlan& plan);

}  // namespace ferry::exchange
