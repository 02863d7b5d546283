#pragma once
// Reidentify's work inside its transaction (Engine::reidentify makes the keys
// and swaps the key file around it): this database stops being `old_id` and
// becomes `new_id`.
//   1. the old identity's chain stops where it is shared (reissue.h,
//      shared_head); the old identity becomes an ordinary device here;
//   2. this database becomes `new_id`, and the evidence that stopped the seal
//      is forgotten;
//   3. what never left is made again under the new identity, then what was
//      captured meanwhile is sealed after it, and the rows it wrote are
//      written from their merge state (reissue.h);
//   4. with the old keys, if they are still here, the old chain's shared head
//      is signed once more, so this database can pass on what it holds of it.

#include <cstddef>
#include <cstdint>
#include <string>

#include "ferry/operation.h"
#include "sql/database.h"
#include "trust/keys.h"

namespace ferry::identity {

struct Moved {
  std::uint64_t previous_head = 0;  // Where the old identity's chain stops.
  std::size_t reissued = 0;         // Operations made again under the new identity.
};

// Steps 1-4. `old_keys` may be null (the key file was lost). Throws
// Error(corrupt) when ferry_devices lacks this device. REQUIRES: inside a write
// transaction.
Moved move_to(sql::Database& db, const DeviceId& old_id, const DeviceId& new_id, const std::string& name,
              const trust::Identity& identity, const trust::KeyPair* old_keys);

}  // namespace ferry::identity
