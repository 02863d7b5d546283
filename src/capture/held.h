#pragma once
// Rows held back from sealing. A change whose operation would be larger than
// any reader accepts (log::kMaxBodyBytes: a value over 64 MiB written by the
// application) never enters the log, where it would stop every later export
// for good; nor does one whose key SQLite would not tell apart as ferry does
// (KeyIdentity), nor one the fleet's grants do not let this device write
// (fleet/fleet.h), which every receiver would refuse. Its row is listed in
// ferry_held with the reason instead, and nothing else stops: other rows seal
// and travel. Later changes to a held row are not sealed one by one; at every
// seal, each held row is looked at again as it now is in its table: once it
// may be sent, it is sealed whole (an insert of the current row, or a delete
// if it is gone) and leaves the list.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/sealer.h"
#include "capture/tables.h"
#include "ferry/reports.h"
#include "sql/database.h"

namespace ferry::capture {

class Held {
 public:
  // REQUIRES: inside the seal's write transaction.
  explicit Held(sql::Database& db);

  bool contains(std::int64_t table_no, const std::vector<Value>& key);
  // Keeps the row out of the log, saying why.
  void hold(const TrackedTable& table, const std::vector<Value>& key, const std::string& reason);
  // The reason for a row whose operation would be `size` bytes (LocalWriter::try_append).
  static std::string too_large(const std::vector<Value>& key, const std::vector<ColumnValue>& columns,
                               std::size_t size);
  // Seals every held row that fits now; the rest stay, with their reason renewed.
  void retry(const Registry& tables, LocalWriter& writer);

  // Every held row, oldest first (none in a database whose ferry predates them).
  static std::vector<HeldRow> list(sql::Database& db, const Registry& tables);

 private:
  sql::Database& db_;
  bool any_;  // False while ferry_held is empty: no lookup needed per change.
  std::optional<sql::Statement> find_;  // contains()'s lookup, prepared once it is needed.
};

}  // namespace ferry::capture
