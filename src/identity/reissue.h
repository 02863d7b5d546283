#pragma once
// When a restored or copied database takes a new identity (Engine::reidentify),
// the operations it sealed under the old one after the backup clash with the
// ones the device made elsewhere under the same numbers. Those that never left
// this database are made again under the new identity: the same changes, with
// the same Lamport times and the same causal past, so every replica merges them
// as the concurrent changes they were, and the old identity's chain is free to
// continue here as the device made it elsewhere.

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/operation.h"
#include "session/session.h"
#include "replica/devices.h"
#include "sql/database.h"

namespace ferry::identity {

// Where this database's own chain is known to be shared: the newest of its own
// operations that left in a bundle, or that another device holds (its clock
// said so, or a refused bundle showed the same hash there). Never beyond `head`.
std::uint64_t shared_head(sql::Database& db, const replica::Devices& devices, std::int64_t self_no, const DeviceId& self,
                          std::uint64_t head);

// Where a chain of a scope moves: from the old device's chain of `scope` to
// the new device's, after the old device's shared chain moved from `kept` on
// (format4.md §12.9).
struct ScopeMove {
  DeviceId old_device, new_device;
  std::string scope;
  std::uint64_t kept = 0;
};

// Moves operations keep+1.. of `old_id` to `new_id` (numbered from 1), with the
// stamps of the merge state and the conflict records that name them, and
// returns them as made again. With `scope`, `old_id` and `new_id` are the old
// and new device's chains of that scope (the new one registered here), and
// what the operations follow of the old device's shared chain past where it
// was kept is followed on the new device's. REQUIRES: inside a write
// transaction, `new_id` has no operations, and none of the moved operations
// ever left this database; with `scope`, the shared chain moved first.
std::vector<Operation> reissue_after(sql::Database& db, const DeviceId& old_id, const DeviceId& new_id,
                                     std::uint64_t keep, const ScopeMove* scope = nullptr);

// Then, once the changes captured meanwhile are sealed (the table holds them):
// writes every row the operations made `again` wrote from its renamed merge
// state (a new device id can change who wins a tie of Lamport times) and
// settles the conflict records of its cells.
void resettle(session::Session& s, const std::vector<Operation>& again);

// Records that operations of this device up to `seq` left in a bundle; or of
// its chain of a scope, `chain`.
void note_sent(sql::Database& db, std::uint64_t seq);
void note_sent(sql::Database& db, const DeviceId& chain, std::uint64_t seq);
// shared_head for this device's chain of a scope: the newest of its operations
// that left in a bundle or that another device announced holding.
std::uint64_t scoped_shared_head(sql::Database& db, const replica::Devices& devices, const replica::Device& chain);

}  // namespace ferry::identity
