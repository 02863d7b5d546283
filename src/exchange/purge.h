#pragma once
// A scope this device may no longer read leaves it (bundle_format/format4.md
// §12.4). Run at the end of every import, once the grants it brought are
// noted, inside the import's transaction:
//   1. the scopes whose chains are named here and which this device's newest
//      grant does not let it read (none in no fleet, nor on the administrator);
//   2. a scope in which this device's own chain holds operations no peer has
//      announced holding is kept, and said, until one has: nothing written
//      here is lost;
//   3. every row a chain of the scope wrote loses that scope's merge state and
//      shows what is left (merge::Merger::drop_scope), written without capture;
//   4. the scope's chains leave the log, ferry_base, ferry_pending and the
//      causal index, their heads going back to nothing. This device's own
//      chain's former head is kept (replica::purged_head): it seals
//      nothing more in that scope until an import has brought those
//      operations back (capture::LocalWriter), so that it never writes a
//      second history of its own chain.
// What is removed stays everywhere else.

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/reports.h"
#include "session/session.h"

namespace ferry::exchange {

// Steps 1-4. REQUIRES: inside a write transaction, the session finished.
std::vector<ScopeRemoved> remove_unreadable_scopes(session::Session& s);

}  // namespace ferry::exchange
