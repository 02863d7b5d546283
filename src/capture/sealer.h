#pragma once
// Sealing: captured rows (ferry_capture) become operations of this device --
// sequence number, Lamport time, deps, id, previous hash, hash -- in capture
// order (which is commit order: the capture table's rowid grows with every
// captured change and a transaction's rows are contiguous). Every operation
// made is of format 2 (log/codec.h): its deps are the chains whose heads here
// moved past what this device's previous operation had seen, so along a run of
// local writes they are empty, and after an import they name what it brought.
//
// An UPDATE that changes the primary key becomes a delete of the old key
// followed by an insert of the new row, so a replica can reproduce it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "capture/applier.h"
#include "capture/tables.h"
#include "ferry/operation.h"
#include "fleet/fleet.h"
#include "log/store.h"
#include "log/stored_chains.h"
#include "replica/devices.h"
#include "replica/lamports.h"

namespace ferry::capture {

// Appends operations of this device to the log, and hands each to the merge state.
class LocalWriter {
 public:
  // `fleet` says what this device may write and notes the grants it makes.
  // `lamport`: the shared scope's greatest Lamport time, `scope_lamports` the others'.
  LocalWriter(replica::Devices& devices, log::Store& log, Applier& merger, fleet::Fleet& fleet, const DeviceId& self,
              std::uint64_t& lamport, replica::ScopeLamports& scope_lamports);
  // REQUIRES: columns sorted by name. The change is already in the table
  // unless write_table (a resolution written by ferry itself).
  // Throws Error(refused) for an operation try_append would not make.
  Operation append(const std::string& table, std::vector<Value> key, OpKind kind, std::vector<ColumnValue> columns,
                   bool write_table = false, const std::string& scope = std::string());
  // An operation try_append did not make, given back whole with the reason.
  struct NotMade {
    std::string why;
    std::vector<Value> key;
    std::vector<ColumnValue> columns;
  };
  // As append, but an operation no reader would accept is not made: one larger
  // than a bundle may carry (a value over log::kMaxValueBytes, an encoding over
  // log::kMaxBodyBytes), one on a table the fleet's grants do not let this
  // device write (fleet/fleet.h), or a grant the administrator's ferry could
  // not read back. Nothing changes, and the change comes back as NotMade.
  // `scope`: the row's (capture/scope.h); the operation is one of this
  // device's chain of that scope (format4.md §12.1), whose deps name only
  // chains of that scope and of the shared one.
  std::variant<Operation, NotMade> try_append(const std::string& table, std::vector<Value> key, OpKind kind,
                                              std::vector<ColumnValue> columns, bool write_table = false,
                                              const std::string& scope = std::string());
  std::size_t appended() const { return appended_; }
  // Why this device may not write `table` in `scope`; empty when it may.
  std::string may_not_write(const std::string& table, const std::string& scope) const {
    return fleet_.may_not_seal(self_, table, scope);
  }
  // The scope whose state of the row the table shows (Applier::shown_scope).
  std::optional<std::string> shown_scope(const TrackedTable& table, const std::vector<Value>& key) {
    return merger_.shown_scope(table, key);
  }
  // The operation format made from now on: 2 (the default), or 1 while a peer
  // still runs ferry 3.x (replica/meta.h, kSealFormatKey).
  void set_format(std::uint8_t format) {
    format_ = format;
    current_ = false;  // The next operation works its clock out afresh.
  }
  // Operations held here follow `device`'s up to `seq`, which this database
  // does not hold (a forgotten chain, identity/forget.h): the operations made
  // here follow them too, so that every clock stays transitively closed.
  void claim(const DeviceId& device, std::uint64_t seq) {
    if (claims_.get(device) < seq) claims_.set(device, seq);
    current_ = false;
  }
  // The value of the cell as merged so far (Applier::current).
  std::optional<Value> merged(const TrackedTable& table, const std::vector<Value>& key, const std::string& column) {
    return merger_.current(table, key, column);
  }

 private:
  // What this device's next operation newly follows: each chain whose head
  // (or claim) is past the entry of the whole clock of its previous operation,
  // which the causal index gives. Only chains whose heads moved since that
  // operation (Devices::moved_since_own) or that are claimed can be: a seek
  // each, and none while no head other than this device's moved.
  VectorClock deps(const replica::Device& me);
  // The same for this device's chain of a scope: each chain of that scope and
  // of the shared one past the entry of its previous operation's whole clock.
  // A walk over the chains known, only when a head moved since that operation.
  VectorClock scoped_deps(const replica::Device& chain, const std::string& scope);
  // Format 1: the whole clock, every chain's head (or claim); a walk over the
  // devices only when a head other than this device's moved.
  VectorClock whole(std::uint64_t seq);

  replica::Devices& devices_;
  log::Store& log_;
  Applier& merger_;
  fleet::Fleet& fleet_;
  DeviceId self_;
  std::uint64_t& lamport_;
  replica::ScopeLamports& scope_lamports_;
  log::StoredChains chains_;
  std::map<std::int64_t, std::uint64_t> purged_;  // Devices::purged_head of each scoped chain asked about.
  std::map<std::int64_t, std::uint64_t> scoped_moves_;  // devices_.moves() after each scoped chain's last operation.
  std::uint8_t format_ = 2;
  VectorClock claims_;  // Entries beyond the heads held (claim()).
  VectorClock whole_;   // whole()'s last answer.
  // True while the heads are where they were when this device's previous
  // operation was made here: its next one then follows nothing new.
  bool current_ = false;
  std::uint64_t moves_ = 0;  // devices_.moves() right after that operation.
  std::size_t appended_ = 0;
};

// Seals everything in ferry_capture and empties it. Returns the number of operations made.
// A row whose operation would be larger than a bundle may carry is held back
// instead (capture/held.h), and every held row is sealed as it then is once it
// fits again. REQUIRES: inside a write transaction.
std::size_t seal(sql::Database& db, const Registry& tables, LocalWriter& writer);

}  // namespace ferry::capture
