#pragma once
// Happened-before, written once (bundle_format/README.md §8): A happened
// before B when B's origin had seen A, that is when the entry for A's origin
// in B's whole vector clock is at least A's seq. A format 1 operation carries
// its whole clock; a format 2 operation only what grew since the operation
// before it in its chain (bundle_format/format4.md §3), the rest coming from
// the causal index (log/causal_index.h), one seek. Every merge decision and
// every rebuilt past goes through here, never through an operation's clock
// field directly.

#include "ferry/operation.h"
#include "log/store.h"

namespace ferry::merge {

class Causality {
 public:
  explicit Causality(log::Store& log) : log_(&log) {}

  // The entry for `device` of the whole clock of `op`, an operation held or being applied here.
  std::uint64_t seen(const Operation& op, const DeviceId& device) const {
    if (device == op.origin) return op.seq;
    const std::uint64_t carried = op.clock.get(device);
    if (op.format == 1) return carried;
    return std::max(carried, log_->clock_entry(op.origin, op.seq - 1, device));
  }
  // True when `op` follows operation `seq` of `origin`.
  bool follows(const Operation& op, const DeviceId& origin, std::uint64_t seq) const { return seen(op, origin) >= seq; }
  // True when `a` happened before `b`.
  bool happened_before(const Operation& a, const Operation& b) const { return follows(b, a.origin, a.seq); }

 private:
  log::Store* log_;
};

}  // namespace ferry::merge
