#pragma once
// The operations log (ferry_log): append-only rows of (id, canonical body),
// one hash chain per origin device. The id packs the origin's local device
// number and the sequence number -- log_id() -- so each device's chain is one
// contiguous run of an integer key: appends are cheap and a range is a scan.
// Hashes are not stored: they are recomputed from the body when needed.
// verify_log() recomputes every hash and link and compares the chain heads
// with ferry_devices.

#include <functional>
#include <optional>
#include <string>

#include "ferry/reports.h"
#include "log/causal_index.h"
#include "replica/devices.h"
#include "sql/blob_rows.h"
#include "sql/database.h"

namespace ferry::log {

constexpr int kSeqBits = 40;  // Up to 2^40 - 1 operations per device.

// ferry_log.id of operation `seq` of the device numbered `device_no` here.
std::int64_t log_id(std::int64_t device_no, std::uint64_t seq);

class Store {
 public:
  Store(sql::Database& db, const replica::Devices& devices);
  // Appends `op`, whose canonical encoding is `body`, and records it in the
  // causal index (log/causal_index.h). REQUIRES: its origin and every device
  // its clock names are known. Appends are written in groups
  // (sql/blob_rows.h): body() and hash() see them at once, SQL after flush().
  void append(const Operation& op, std::string_view body);
  // Writes the appends gathered. Call before reading ferry_log with SQL.
  void flush() { appends_.flush(); }
  // The canonical body and hash of (origin, seq), from the log or, for a database
  // bootstrapped from a snapshot, from the operations the snapshot brought (ferry_base).
  std::optional<std::string> body(const DeviceId& origin, std::uint64_t seq);
  std::optional<Hash> hash(const DeviceId& origin, std::uint64_t seq);
  // Keeps an operation a snapshot brought (its hash already verified), and
  // records it in the causal index unless the snapshot brought its rows (4.0).
  void add_base(const Operation& op, const Hash& hash, std::string_view body, bool record = true);
  // The entry for `of` of the whole clock of operation `seq` of `origin` (log/causal_index.h).
  std::uint64_t clock_entry(const DeviceId& origin, std::uint64_t seq, const DeviceId& of);
  // Adds a row to the causal index as a snapshot brought it (exchange/snapshot.h).
  void add_index_row(const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq);
  // What the causal index says of `op` that its body does not (CausalIndex::disagreement); empty when nothing.
  std::string index_disagrees(const Operation& op);

 private:
  std::optional<std::int64_t> id_of(const DeviceId& origin, std::uint64_t seq) const;
  std::int64_t number_of(const DeviceId& device) const;

  sql::Database& db_;
  const replica::Devices& devices_;
  CausalIndex index_;
  sql::BlobRows appends_;
  sql::Statement select_;
  sql::Statement select_base_;
  sql::Statement insert_base_;
};

std::size_t count_operations(sql::Database& db);

// Reading many operations at once. Each visits bodies as stored (the canonical
// encoding, log/codec.h); a view is valid only during its call. REQUIRES:
// appends flushed (Store::flush).
using BodyVisitor = std::function<void(std::string_view body)>;
using SeqVisitor = std::function<void(std::uint64_t seq, std::string_view body)>;
// Every operation held: those a snapshot brought (ferry_base), then the log's.
void for_each_held(sql::Database& db, const BodyVisitor& visit);
// Every operation of the log, without the snapshot's.
void for_each_logged(sql::Database& db, const BodyVisitor& visit);
// Reads runs of chains with one statement, prepared once: what to use in a
// loop over devices or ranges.
class ChainReader {
 public:
  explicit ChainReader(sql::Database& db);
  // The operations first..last of device `device_no` the log holds, in seq order.
  // A gap is skipped, not reported: the caller checks the numbers it is given.
  void read(std::int64_t device_no, std::uint64_t first, std::uint64_t last, const SeqVisitor& visit);

 private:
  sql::Statement range_;
};
// ChainReader::read, once.
void for_each_in_chain(sql::Database& db, std::int64_t device_no, std::uint64_t first, std::uint64_t last,
                       const SeqVisitor& visit);
// The operations of `origin` a snapshot brought (ferry_base).
void for_each_in_base(sql::Database& db, const DeviceId& origin, const BodyVisitor& visit);

// The one exception to the log's append-only guard: deletes operations
// first..last of device `device_no` from the log and the causal index, inside the caller's
// transaction, and puts the guard back. Only for a chain this database stops
// holding as it was: operations made again under a new identity
// (identity/reissue.h), or a chain admitted under a key its device's owner
// disowned (identity/forget.h).
void remove(sql::Database& db, std::int64_t device_no, std::uint64_t first, std::uint64_t last);
// Forgets the operations of `origin`, numbered `device_no` here, that a snapshot
// brought (ferry_base, and their rows of the causal index), for the same reason.
void remove_base(sql::Database& db, const DeviceId& origin, std::int64_t device_no);

// Checks every chain. Expected failures are reported, not thrown.
VerifyReport verify_log(sql::Database& db, const replica::Devices& devices);

}  // namespace ferry::log
