#pragma once
// VectorClock: for each device, the highest sequence number of that device's
// operations that have been seen. Comparing two clocks says whether one
// history includes the other (before / after / equal) or neither (concurrent).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ferry/ids.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

enum class Order { before, after, equal, concurrent };
const char* to_string(Order order) noexcept;

class VectorClock {
 public:
  using Entry = std::pair<DeviceId, std::uint64_t>;

  VectorClock() = default;
  // From entries in any order; a device given twice keeps its greater seq,
  // and entries of seq 0 are left out.
  explicit VectorClock(std::vector<Entry> entries);

  // The sequence seen for `device`; 0 when it has never been seen.
  std::uint64_t get(const DeviceId& device) const;
  // Sets the entry; seq 0 removes it. Setting entries in device order costs
  // O(1) each; out of order, up to O(size).
  void set(const DeviceId& device, std::uint64_t seq);
  // Entry-wise maximum: afterwards this clock includes everything `other` includes.
  void merge(const VectorClock& other);
  // True when every entry of this clock is <= the matching entry of `other`.
  bool included_in(const VectorClock& other) const;

  // Sorted by device, each device once, every seq > 0.
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  bool empty() const noexcept { return entries_.empty(); }
  // "{device: seq, ...}" with canonical device ids, in device order.
  std::string to_string() const;
  // Reads "DEVICE-ID:SEQ,DEVICE-ID:SEQ..." (full device ids); throws
  // Error(invalid_argument) naming the item that is not.
  static VectorClock parse(const std::string& text);

  friend bool operator==(const VectorClock& a, const VectorClock& b) { return a.entries_ == b.entries_; }
  friend bool operator!=(const VectorClock& a, const VectorClock& b) { return !(a == b); }

 private:
  std::vector<Entry> entries_;
};

// before: a's history is a strict subset of b's; after: the reverse.
Order compare(const VectorClock& a, const VectorClock& b);

}  // namespace ferry
#pragma GCC visibility pop
