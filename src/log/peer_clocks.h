#pragma once
// What each peer holds of the log, as far as this database knows: the clock
// it announced in its latest bundle (announced_clock) and the clock of the
// latest bundle exported to it (exported_clock), kept in ferry_devices. They
// only steer what is sent.
//
// A hub hears from every device, and most of their clocks are nearly the
// same, so each is kept as a delta from a base clock several share
// (ferry_peer_bases; bundle_format/format4.md §10), a delta naming devices
// by local number, a base by id:
//   kept  := array(2)[ uint base (a row of ferry_peer_bases; 0: none), entries ]
//   base  := entries, the whole clock, every device by id (local format 7)
//   entries := array[ array(2)[ uint device number | bin16 id, uint seq ] ]
// a kept delta's entries replacing the base's (seq 0: absent). The base is
// the one that leaves the fewest entries; a clock whose every delta would
// hold more than 64 becomes a base of its own; a base no kept clock refers
// to is deleted. A value kept before, in the codec's clock encoding, is read
// as it is and kept in this form the next time. ferry_peer_refs names, for a
// kept clock that is exactly one bundle's whole clock, that bundle.

#include <cstdint>
#include <optional>
#include <vector>

#include "ferry/vector_clock.h"
#include "replica/devices.h"
#include "sql/database.h"

namespace ferry::log {

// The clock kept in `column` (announced_clock, exported_clock) for device
// `device_no`; empty if none. `devices`: this database's, loaded (kept
// clocks name devices by local number).
VectorClock stored_clock(sql::Database& db, const replica::Devices& devices, const char* column, std::int64_t device_no);
// Keeps `clock` there, and the time now in `ms_column` (announced_ms,
// exported_ms). `bundle`: the bundle whose whole clock `clock` is exactly,
// which a 4.1 bundle may name as its reference (bundle_format/README.md §4);
// nullopt when it is no one bundle's.
void store_clock(sql::Database& db, const replica::Devices& devices, const char* clock_column, const char* ms_column,
                 std::int64_t device_no, const VectorClock& clock,
                 const std::optional<OperationId>& bundle = std::nullopt);
// The bundle whose whole clock the clock kept in `column` for `device_no` is, if one is.
std::optional<OperationId> stored_reference(sql::Database& db, const char* column, std::int64_t device_no);
// Every device's kept clocks, by local device number.
struct PeerClocks {
  std::int64_t device_no = 0;
  VectorClock announced, exported;  // Empty if none.
  std::int64_t announced_ms = 0, exported_ms = 0;
};
std::vector<PeerClocks> all_peer_clocks(sql::Database& db, const replica::Devices& devices);
// Rewrites every base clock that names devices by number (local format 6 and
// before) to name them by id, so that reading a base needs no device list
// (log/upgrade.h). Kept clocks are unchanged.
void name_bases_by_id(sql::Database& db, const replica::Devices& devices);
// Removes `device`'s entry from every kept clock (its chain was forgotten,
// identity/forget.h): no kept clock is then any bundle's.
void forget_in_stored_clocks(sql::Database& db, const replica::Devices& devices, const DeviceId& device);

}  // namespace ferry::log
