#pragma once
// Conflicts as a person sees and settles them (ferry conflicts / resolve): the
// open records (merge/conflicts.h) with the operations they name, and a
// resolution -- a new operation of this device that follows both sides, so
// every replica that receives it closes the conflict the same way.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ferry/reports.h"
#include "session/session.h"

namespace ferry::session {

// Every open conflict, oldest first, with both operations read from the log.
std::vector<ConflictInfo> open_conflicts(Session& s);

// Chooses the value a resolution keeps (nullopt: the row is deleted) and
// points `side` at the operation whose row it brings back if the row is gone.
using Chooser = std::function<std::optional<Value>(const ConflictInfo&, const Operation*& side)>;

// Settles open conflict `id` with the value `choose` picks, as a new operation
// of this device written to the table; a constraint conflict is acknowledged
// here only. Returns the operation (for a constraint conflict, its winner).
// Throws Error(not_found) when no such conflict is open. REQUIRES: captured
// changes sealed, inside a write transaction.
Operation resolve(Session& s, std::int64_t id, const Chooser& choose);

}  // namespace ferry::session
