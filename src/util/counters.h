#pragma once
// The bound every counter ferry writes stays under: sequence numbers and
// Lamport times (bundle_format/README.md §3), so that any reader can hold them
// in a signed 64-bit integer (SQLite's) with room to add one.

#include <cstdint>

namespace ferry::util {

constexpr std::uint64_t kMaxCounter = std::uint64_t{1} << 62;

}  // namespace ferry::util
