#pragma once
// The operations log (ferry_log): append-only rows of (origin, seq, hash,
// canonical body), one hash chain per origin device. verify_log() recomputes
// every hash and link and compares the chain heads with ferry_devices.

#include <optional>
#include <string>

#include "engine/devices.h"
#include "ferry/reports.h"
#include "sql/database.h"

namespace ferry::log {

class Store {
 public:
  explicit Store(sql::Database& db);
  void append(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body);
  // The canonical body and hash of (origin, seq), from the log or, for a database
  // bootstrapped from a snapshot, from the operations the snapshot brought (ferry_base).
  std::optional<std::string> body(const DeviceId& origin, std::uint64_t seq);
  std::optional<Hash> hash(const DeviceId& origin, std::uint64_t seq);
  // Keeps an operation a snapshot brought (its hash already verified).
  void add_base(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body);

 private:
  sql::Database& db_;
  sql::Statement insert_;
  sql::Statement select_;
  sql::Statement select_base_;
  sql::Statement insert_base_;
};

std::size_t count_operations(sql::Database& db);

// Checks every chain. Expected failures are reported, not thrown.
VerifyReport verify_log(sql::Database& db, const engine::Devices& devices);

}  // namespace ferry::log
