#pragma once
// BlobRows: inserts (INTEGER key, BLOB) rows into one table, many to a
// statement (INSERT, or INSERT OR REPLACE to overwrite rows by key). Each
// executed statement costs SQLite a fixed amount (binding, opening and closing
// a cursor, allocating and freeing a record buffer);
// ferry appends hundreds of thousands of such rows per import (the log, the
// merge state), so they are written kRowsPerStatement at a time.
//
// A table may have one more column before the key whose value a run of rows
// shares (the bundle's origin device): set_leading() gives it.
//
// add() copies the row; it reaches the table when kRowsPerStatement rows (or
// kMaxGatheredBytes) have gathered, or at flush(). Until then SQL does not see
// it: find() does. A blob larger than kMaxGatheredBytes is written at once,
// uncopied, so what is held stays bounded whatever the values' sizes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sql/database.h"

namespace ferry::sql {

class BlobRows {
 public:
  // `insert_into`: trusted SQL up to the column list, naming the table and its
  // two columns, "INSERT INTO t(k, v)", or, with `leading`, its three:
  // "INSERT INTO t(shared, k, v)".
  BlobRows(Database& db, const std::string& insert_into, bool leading = false);
  BlobRows(BlobRows&&) noexcept = default;

  // The leading column's value for the rows added from now on; writes those
  // gathered before (and throws as flush() does). REQUIRES: made with `leading`.
  void set_leading(std::string_view blob);

  // When a group is full, writes it first, and throws as flush() does (`key` is then not added).
  // A failure writing a large blob at once throws the same way.
  void add(std::int64_t key, std::string_view blob);
  // The blob of a row added with `key` and not yet written. Valid until the next add() or flush().
  std::optional<std::string_view> find(std::int64_t key) const;
  // Writes the rows gathered. A failure (a duplicate key) throws, and the rows are dropped.
  void flush();

 private:
  static constexpr int kRowsPerStatement = 32;
  static constexpr std::size_t kMaxGatheredBytes = std::size_t{1} << 20;
  int first_param_;  // Of row 0's key: 2 when ?1 is the leading column.
  Statement many_;   // kRowsPerStatement rows.
  Statement one_;
  std::array<std::int64_t, kRowsPerStatement> keys_{};
  std::array<std::size_t, kRowsPerStatement + 1> ends_{};  // Blob i is bytes_[ends_[i], ends_[i + 1]).
  std::string bytes_;
  int count_ = 0;
};

}  // namespace ferry::sql
