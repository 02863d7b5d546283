#pragma once
// Operation: one captured INSERT, UPDATE or DELETE on a tracked table, as it
// is kept in the operations log and carried in bundles. Its canonical
// encoding and hash are specified in bundle_format/README.md.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ferry/ids.h"
#include "ferry/value.h"
#include "ferry/vector_clock.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

using Hash = std::array<std::uint8_t, 32>;  // SHA-256.

enum class OpKind : std::uint8_t { insert = 0, update = 1, remove = 2 };
const char* to_string(OpKind kind) noexcept;

struct ColumnValue {
  std::string name;
  Value value;
  friend bool operator==(const ColumnValue& a, const ColumnValue& b) {
    return a.name == b.name && a.value == b.value;
  }
};

struct Operation {
  // The encoding (bundle_format/README.md §3): 1, the operations of bundle
  // formats 2.0 and 3.0; 2, those of format 4.0 (bundle_format/format4.md §3),
  // whose clock holds only what grew since the chain's previous operation and
  // whose id is not carried but follows from origin, seq and its time part.
  std::uint8_t format = 1;
  OperationId id;                    // UUIDv7; its time part is when the change was sealed.
  // The chain: in the shared scope, the device where the change was made; in
  // another scope (format 2 only), the id of that device's chain of the scope
  // (bundle_format/format4.md §12.9), which the log names with its device.
  DeviceId origin;
  std::string scope;                 // The chain's scope; "" is the shared scope.
  std::uint64_t seq = 0;             // 1, 2, 3... per chain, without gaps.
  std::uint64_t lamport = 0;         // Greater than the Lamport time of everything it follows.
  // Format 1: what the origin had seen, clock.get(origin) == seq. Format 2:
  // the entries of that clock that grew since the origin's previous operation
  // ("deps"), never the origin's own; the whole clock follows from the chain.
  VectorClock clock;
  std::string table;
  std::vector<Value> key;            // Primary-key values, in primary-key order.
  OpKind kind = OpKind::insert;
  std::vector<ColumnValue> columns;  // Sorted by name; all columns (insert), changed ones (update), none (remove).
  Hash prev_hash{};                  // Hash of the origin's previous operation; zeros for seq 1.

  friend bool operator==(const Operation& a, const Operation& b);
};

// Lower-case hex of a hash.
std::string to_hex(const Hash& hash);

}  // namespace ferry
#pragma GCC visibility pop
