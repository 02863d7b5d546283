#pragma once
// The operations log (ferry_log): append-only rows of (id, canonical body),
// one hash chain per origin device. The id packs the origin's local device
// number and the sequence number -- log_id() -- so each device's chain is one
// contiguous run of an integer key: appends are cheap and a range is a scan.
// Hashes are not stored: they are recomputed from the body when needed.
// verify_log() recomputes every hash and link and compares the chain heads
// with ferry_devices.

#include <optional>
#include <string>

#include "engine/devices.h"
#include "ferry/reports.h"
#include "sql/blob_rows.h"
#include "sql/database.h"

namespace ferry::log {

constexpr int kSeqBits = 40;  // Up to 2^40 - 1 operations per device.

// ferry_log.id of operation `seq` of the device numbered `device_no` here.
std::int64_t log_id(std::int64_t device_no, std::uint64_t seq);

class Store {
 public:
  Store(sql::Database& db, const engine::Devices& devices);
  // REQUIRES: origin is a known device. Appends are written in groups
  // (sql/blob_rows.h): body() and hash() see them at once, SQL after flush().
  void append(const DeviceId& origin, std::uint64_t seq, std::string_view body);
  // Writes the appends gathered. Call before reading ferry_log with SQL.
  void flush() { appends_.flush(); }
  // The canonical body and hash of (origin, seq), from the log or, for a database
  // bootstrapped from a snapshot, from the operations the snapshot brought (ferry_base).
  std::optional<std::string> body(const DeviceId& origin, std::uint64_t seq);
  std::optional<Hash> hash(const DeviceId& origin, std::uint64_t seq);
  // Keeps an operation a snapshot brought (its hash already verified).
  void add_base(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body);

 private:
  std::optional<std::int64_t> id_of(const DeviceId& origin, std::uint64_t seq) const;

  const engine::Devices& devices_;
  sql::BlobRows appends_;
  sql::Statement select_;
  sql::Statement select_base_;
  sql::Statement insert_base_;
};

std::size_t count_operations(sql::Database& db);

// Checks every chain. Expected failures are reported, not thrown.
VerifyReport verify_log(sql::Database& db, const engine::Devices& devices);

}  // namespace ferry::log
