#pragma once
// Export, step 2 under a size limit (ExportOptions::max_size;
// bundle_format/README.md §18): the plan written whole if it fits, or cut into
// parts, each an ordinary bundle of at most the limit that imports on its own
// and in any order (what a part continues from waits as pending until it comes):
//   1. write the whole; if it fits, that is the one part;
//   2. otherwise cut the operations into as many runs as the whole's size asks
//      for, each run of a chain ending where a range may end (anywhere in this
//      device's own chains; at a head its origin signed in another's);
//   3. write each; a part still over the limit is cut in two and written
//      again, until every part fits or one run that cannot be cut does not:
//      then Error(refused), naming it, and nothing is written.
// The peer's receipts (export_plan.h) go in the first part.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exchange/export.h"

namespace ferry::exchange {

// The parts, written and not yet published, in order. `split` false: a bundle
// over the limit is refused (Error(refused)) rather than cut. REQUIRES: inside
// the export's transaction.
std::vector<std::unique_ptr<BundleExport>> write_parts(session::Session& s, trust::Store& store,
                                                       const trust::KeyPair& keys, const ExportPlan& plan,
                                                       const std::string& path, const ExportOptions& options,
                                                       bool split);

// True when a bundle of `plan` would tell its peer nothing new
// (ExportOptions::only_news): this device's clock, as the peer may see it, is
// the one the last export to the peer carried, and either the peer lacks no
// operation or that last export is `on_its_way`.
bool nothing_new(session::Session& s, const ExportPlan& plan, const std::optional<OperationId>& on_its_way);

}  // namespace ferry::exchange
