#pragma once
// Bringing a database ferry prepared in an older local format up to date, in
// place (bundle_format/format4.md §8). What an upgrade adds is derived from
// the operations held; no body is rewritten, so every hash and signature
// stays valid.
//
//   3 -> 4: the causal index (log/causal_index.h), filled from the clocks of
//           every operation held, each chain read once in seq order.
//   4 -> 5: ferry_moved (replica/devices.h), holding every device: the next
//           operation made here compares each head once, as it did before.
//   5 -> 6: ferry_devices_heads (replica/schema.cc), the index covering what
//           replica::Devices loaded.
//   6 -> 7: ferry_devices_list in its place, without the chains' hashes, which
//           replica::Devices now reads per device when needed; and the peers'
//           base clocks (log/peer_clocks.h) name devices by id, so that reading
//           one needs no device list. 5 goes to 7 at once.
//   7 -> 8: ferry_grant_log (fleet/fleet.h), empty.
//   8 -> 9: ferry_chain_names (log/chain.h) and ferry_lamports
//           (replica/lamports.h), empty; ferry_tables.scope, '' for every
//           table (capture/scope.h).
//   9 -> 10: ferry_imported (exchange/import.h) and ferry_written
//            (exchange/export.h), empty.

#include "sql/database.h"

namespace ferry::log {

// Brings the database from local format `from` (replica::check_format) to
// replica::kLocalSchemaVersion inside the caller's transaction, so that a
// crash leaves it as it was or wholly upgraded. Throws Error(corrupt) for an
// operation that does not decode, changing nothing once rolled back.
void upgrade(sql::Database& db, int from);

}  // namespace ferry::log
