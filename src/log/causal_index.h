#pragma once
// The causal index (ferry_deps): what each operation held had seen, kept as
// the clock entries that grew along its chain, so that "had B seen A?" is one
// index seek and the table is sized by clock advances, never by devices ×
// operations (bundle_format/format4.md §4).
//
// For operation `seq` of the device numbered `chain` here, the whole clock's
// entry for device `dep` is `seq` itself when dep == chain, else the dep_seq
// of the row (chain, dep, s) with the greatest s ≤ seq, or 0 when there is
// none. A format 2 operation adds its deps as rows; a format 1 operation,
// which carries its whole clock, adds the entries above what the rows already
// give. Clocks grow along a chain, so the answer is exact in whatever order
// the operations of a chain are recorded.

#include <cstdint>
#include <functional>

#include "ferry/operation.h"
#include "sql/database.h"

namespace ferry::log {

class CausalIndex {
 public:
  using NumberOf = std::function<std::int64_t(const DeviceId&)>;

  explicit CausalIndex(sql::Database& db);
  // Records operation `op`, of the device numbered `chain`; `number_of` gives
  // the local number of each device its clock names (all known here: an
  // operation is applied only once its causal past is).
  void record(std::int64_t chain, const Operation& op, const NumberOf& number_of);
  // Adds one row as another database's index holds it (a snapshot's).
  void add_row(std::int64_t chain, std::int64_t dep, std::uint64_t seq, std::uint64_t dep_seq);
  // The entry for device `dep` of the whole clock of operation `seq` of `chain`.
  std::uint64_t entry(std::int64_t chain, std::uint64_t seq, std::int64_t dep);
  // Forgets the rows of operations first..last of `chain` (their operations left the log).
  void remove(std::int64_t chain, std::uint64_t first, std::uint64_t last);
  // For verify, given the operations of each chain in seq order: what the
  // index says of `op` (of `chain`) that its body does not, or the empty
  // string. The rows at it must be exactly what grew, as record() would write
  // them; for the first of a chain, every entry it carries must be the index's answer.
  std::string disagreement(std::int64_t chain, const Operation& op, const NumberOf& number_of);

 private:
  // Calls `grew` for each row record() adds for `op`, when it can tell without
  // reading the index (format 2, or format 1 after the operation before it in
  // its chain); returns false for a format 1 operation that is the first of its chain here.
  bool growth(std::int64_t chain, const Operation& op, const NumberOf& number_of,
              const std::function<void(std::int64_t dep, std::uint64_t dep_seq)>& grew);

  sql::Statement lookup_;
  sql::Statement insert_;
  sql::Statement remove_;
  sql::Statement rows_at_;
  // The whole clock of the format 1 operation recorded (or checked) last, so
  // that the next one of its chain is compared in memory, not by a seek per entry.
  std::int64_t last_chain_ = 0;
  std::uint64_t last_seq_ = 0;
  VectorClock last_clock_;
};

}  // namespace ferry::log
