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
  // The canonical body of (origin, seq), if the log holds it.
  std::optional<std::string> body(const DeviceId& origin, std::uint64_t seq);
  std::optional<Hash> hash(const DeviceId& origin, std::uint64_t seq);

 private:
  sql::Database& db_;
  sql::Statement insert_;
  sql::Statement select_;
};

std::size_t count_operations(sql::Database& db);

// Checks every chain. Expected failures are reported, not thrown.
VerifyReport verify_log(sql::Database& db, const engine::Devices& devices);

}  // namespace ferry::log
