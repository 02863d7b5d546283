#pragma once
// Importer: takes verified operations from a bundle, one at a time, inside the
// import transaction:
//   - an operation already in the log (same origin, seq and hash) or already
//     pending is a duplicate; the same origin and seq with another hash is a
//     forked chain and refuses the whole import;
//   - an operation whose causal past is all here is applied (merge/merger.h)
//     and appended to the log with its original id and hash;
//   - any other is kept in ferry_pending until its past arrives.
// drain() applies pending operations that became ready, smallest (Lamport
// time, origin) first, until none is ready.

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
  // For an operation at or below device `d`'s head: throws Fork unless this
  // database holds the same one, or a snapshot's base vouches for it (below the
  // base, operations are vouched for but not all kept).
  void check_held(const replica::Device& d, std::uint64_t seq, const Hash& hash, std::string_view body) const;
  void apply(const Operation& op, std::string_view body, const Hash& hash);

  session::Session& s_;
  std::string where_;
  sql::Statement find_pending_;
  sql::Statement add_pending_;
  ImportSummary summary_;
  bool may_be_pending_;  // False while ferry_pending is empty: no lookup needed per operation.
};

}  // namespace ferry::exchange
