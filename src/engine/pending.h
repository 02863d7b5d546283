#pragma once
// Pending operations (ferry_pending): received, verified, but not applied yet
// because an operation they follow has not arrived. What they wait for is
// reported as sequence ranges per device.

#include <vector>

#include "engine/devices.h"
#include "ferry/reports.h"
#include "sql/database.h"

namespace ferry::engine {

struct PendingState {
  std::size_t operations = 0;
  std::vector<SeqRange> missing;
};

PendingState pending_state(sql::Database& db, const Devices& devices);

}  // namespace ferry::engine
