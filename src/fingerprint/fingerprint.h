#pragma once
// Fingerprints of a database (bundle_format/README.md, "Fingerprints"): a
// Merkle root over the operations it holds and a digest of its tracked tables'
// rows, so two devices that never meet can tell whether they hold the same data.

#include "capture/tables.h"
#include "engine/devices.h"
#include "ferry/reports.h"
#include "sql/database.h"

namespace ferry::fingerprint {

Fingerprint compute(sql::Database& db, const engine::Devices& devices, const capture::Registry& tables);

}  // namespace ferry::fingerprint
