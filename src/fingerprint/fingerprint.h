#pragma once
// Fingerprints of a database (bundle_format/README.md, "Fingerprints"): a
// Merkle root over the operations it holds and a digest of its tracked tables'
// rows, so two devices that never meet can tell whether they hold the same data;
// and inclusion proofs for single operations under that root.

#include <optional>
#include <string>

#include "capture/tables.h"
#include "ferry/compare.h"
#include "ferry/reports.h"
#include "replica/devices.h"
#include "sql/database.h"

namespace ferry::fingerprint {

// Everything but the device and the time, which the caller knows. With a
// `scope`, only the shared scope's and that scope's (Fingerprint::scope).
Fingerprint compute(sql::Database& db, const replica::Devices& devices, const capture::Registry& tables,
                    const std::optional<std::string>& scope = std::nullopt);

// The inclusion proof of operation `id` under the operations root. Throws
// Error(not_found) when the log does not hold it.
InclusionProof prove(sql::Database& db, const replica::Devices& devices, const OperationId& id);

}  // namespace ferry::fingerprint
