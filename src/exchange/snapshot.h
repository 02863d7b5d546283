#pragma once
// Snapshots (bundle_format/README.md, "Snapshots"): a bundle holding each
// chain's head and only the operations the current state depends on, to start
// a new device without replaying the history.

#include <functional>
#include <set>
#include <utility>

#include "bundle/reader.h"
#include "exchange/importer.h"
#include "session/session.h"

namespace ferry::exchange {

using OperationKeys = std::set<std::pair<DeviceId, std::uint64_t>>;

// Fills a snapshot's ranges (the chain heads) and returns its operations: every
// operation some cell's frontier holds, in the order bundles store them.
// Only chains `carried` says yes to: info.clock's, and those of the operations.
OperationKeys add_snapshot(session::Session& s, BundleInfo& info, const std::function<bool(const DeviceId&)>& carried);

// Bootstraps an empty device from a snapshot: chain bases at the heads, then the
// operations the state depends on, applied in Lamport order (which respects
// causality). `check` sees every operation before it is applied.
void import_snapshot(session::Session& s, bundle::Reader& reader, const std::function<void(const Operation&)>& check,
                     exchange::Importer& importer);

}  // namespace ferry::exchange
