#pragma once
// What each peer holds of the log, as far as this database knows: the clock
// it announced in its latest bundle (announced_clock) and the clock of the
// latest bundle exported to it (exported_clock), kept in ferry_devices in the
// codec's clock encoding (log/codec.h). They only steer what is sent.

#include <cstdint>
#include <vector>

#include "ferry/vector_clock.h"
#include "sql/database.h"

namespace ferry::log {

// The clock kept in `column` (announced_clock, exported_clock) for device
// `device_no`; empty if none.
VectorClock stored_clock(sql::Database& db, const char* column, std::int64_t device_no);
// Keeps `clock` there, and the time now in `ms_column` (announced_ms, exported_ms).
void store_clock(sql::Database& db, const char* clock_column, const char* ms_column, std::int64_t device_no,
                 const VectorClock& clock);
// Every device's kept clocks, by local device number.
struct PeerClocks {
  std::int64_t device_no = 0;
  VectorClock announced, exported;  // Empty if none.
  std::int64_t announced_ms = 0, exported_ms = 0;
};
std::vector<PeerClocks> all_peer_clocks(sql::Database& db);
// Removes `device`'s entry from every kept clock (its chain was forgotten, identity/forget.h).
void forget_in_stored_clocks(sql::Database& db, const DeviceId& device);

}  // namespace ferry::log
