#pragma once
// Importer: takes verified operations from a bundle, one at a time, inside the
// import transaction:
//   - an operation already in the log (same origin, seq and hash) or already
//     pending is a duplicate; the same origin and seq with another hash is a
//     forked chain and refuses the whole import;
//   - an operation whose causal past is all here is applied (merge/merger.h)
//     and appended to the log with its original id and hash;
//   - any other is kept in ferry_pending until its past arrives, and so is an
//     operation of a scope this device may not read (format4.md §12.4): one
//     of a scope it relays waits there to be passed on; any other is removed
//     at the end of the import (exchange/purge.h), unless a grant the import
//     brought lets this device read it by then.
// drain() applies pending operations that became ready, smallest (Lamport
// time, origin) first, until none is ready.
//
// A format 2 operation carries no whole clock for the bundle's reader to bound
// its Lamport time by, so it is bounded here, when it is ready: its whole
// causal past is then held, and no device can seal an operation more than one
// past the greatest Lamport time of what it follows (bundle_format/README.md
// §7). One this bundle brought refuses the import (damage); one an earlier
// import left pending is discarded and reported, so that it cannot stop every
// later import.

#include <map>
#include <string_view>

#include "ferry/error.h"
#include "ferry/reports.h"
#include "session/session.h"

namespace ferry::exchange {

// A forked chain: `other` arrived where `held` is held, for one device and seq.
class Fork : public Error {
 public:
  Fork(const std::string& message, const DeviceId& device_, std::uint64_t seq_, const Hash& held_, const Hash& other_,
       std::string_view other_body_)
      : Error(Errc::refused, message), device(device_), seq(seq_), held(held_), other(other_), other_body(other_body_) {}
  DeviceId device;
  std::uint64_t seq;
  Hash held;
  Hash other;
  std::string other_body;  // Empty when the bundle held only a later operation of the other history.
};

class Importer {
 public:
  // `where` names the bundle in messages.
  Importer(session::Session& session, std::string where);
  void offer(const Operation& op, std::string_view body, const Hash& hash);
  void drain();
  // Applies an operation a snapshot brought: its chain is vouched for by the
  // snapshot's head, so no chain or causal check applies.
  void apply_from_snapshot(const Operation& op);
  const ImportSummary& summary() const { return summary_; }

 private:
  bool ready(const Operation& op) const;
  // Whether this device may read `scope` by its newest grant, asked once per
  // scope until a grant is noted.
  bool readable(const std::string& scope) const;
  // Before the fleet's first grant is held here, another device's operation
  // can be judged only as part of the administrator's history up to that
  // grant, which the fleet allows whole (fleet/fleet.h): true when the
  // administrator's operations held, or its next one pending, follow `op`.
  bool in_admin_history(const Operation& op) const;
  // For an operation at or below device `d`'s head: throws Fork unless this
  // database holds the same one, or a snapshot's base vouches for it (below the
  // base, operations are vouched for but not all kept).
  void check_held(const replica::Device& d, std::uint64_t seq, const Hash& hash, std::string_view body) const;
  void apply(const Operation& op, std::string_view body, const Hash& hash);
  // Why `op`, ready, could not have been sealed by any device; empty when it could.
  std::string impossible(const Operation& op) const;
  // True when `op` went into ferry_pending during this import.
  bool added_here(const Operation& op) const;
  // The greatest Lamport time of `op`'s scope (replica/lamports.h) grows to `op`'s.
  void raise_lamport(const Operation& op);
  // The device whose chain `op` is of: its origin, or a scope's chain's device.
  DeviceId writer_of(const Operation& op) const;

  session::Session& s_;
  std::string where_;
  sql::Statement find_pending_;
  sql::Statement add_pending_;
  ImportSummary summary_;
  bool may_be_pending_;
  mutable std::map<std::string, bool, std::less<>> readable_;  // readable()'s answers...
  mutable std::uint64_t readable_at_ = 0;                       // ...as of this many grants noted.  // False while ferry_pending is empty: no lookup needed per operation.
  // What this import put into ferry_pending, per origin as runs of seqs (a
  // bundle carries each chain as one run): memory by chains, not operations.
  std::map<DeviceId, std::vector<std::pair<std::uint64_t, std::uint64_t>>> added_;
};

}  // namespace ferry::exchange
