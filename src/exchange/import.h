#pragma once
// Import (bundle_format/README.md §6 and §7), after bundle::Reader has checked
// the file, its header, its structure and its signatures. In one transaction:
//   1. admit: every device that signed something in the bundle is one this
//      database trusts, with the key it knows (trust/store.h);
//   2. check this device's own chain: a bundle showing more of it than this
//      database holds means a copy (identity/identity.h);
//   3. seal local changes, so that they take part in conflict detection;
//   4. apply: every operation verified (hash, encoding, chain, range) on a
//      second thread while earlier ones are applied here (exchange/importer.h),
//      the content hash checked after the last;
//   5. refuse a bundle after which nothing sealed here could be sent;
//   6. note what the exporter announced it holds, and its name, and the
//      bundle as imported (ferry_imported);
//   7. summarize;
//   8. remove the scopes this device may no longer read (exchange/purge.h),
//      and commit.
// A bundle that fails anywhere leaves the database untouched. A refusal keeps
// its evidence (a fork, a copy of this device) afterwards, in a transaction of
// its own, once the whole bundle is known to be what its signers signed.

#include <string>

#include "bundle/reader.h"
#include "ferry/engine.h"
#include "sql/database.h"

namespace ferry::exchange {

// Steps 1-8.
ImportSummary apply_bundle(sql::Database& db, const DeviceId& self, bundle::Reader& reader, const Progress& progress);

// Whether an import applied the bundle of this id and content hash (step 6
// keeps both, in ferry_imported).
bool imported(sql::Database& db, const OperationId& bundle_id, const Hash& content_hash);

// Keeps what an import refused for, if the refusal carries evidence (a forked
// chain, this device's identity in use elsewhere). REQUIRES: the import rolled
// back and the bundle's content hash was checked.
void keep_evidence(sql::Database& db, const Error& refusal, const std::string& path);

}  // namespace ferry::exchange
