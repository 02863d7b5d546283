// The manifest of a 2.0 or 3.0 bundle (step 5 of reader.h), and the checked
// field readers the 4.0 manifest (reader4.cc) shares with it.

#include <algorithm>
#include <cstring>

#include "bundle/reader.h"
#include "ferry/error.h"
#include "log/codec.h"

namespace ferry::bundle {

using log::kMaxNameBytes;

Bytes Reader::blob_of(sql::Statement& st, int col, std::size_t size, const char* field) const {
  if (st.column_type(col) != SQLITE_BLOB || (size && st.blob(col).size() != size))
    throw Error(Errc::corrupt, path_ + ": field '" + field + "' has the wrong type or size");
  return st.blob(col);
}

std::int64_t Reader::int_of(sql::Statement& st, int col, const char* field) const {
  if (st.column_type(col) != SQLITE_INTEGER) throw Error(Errc::corrupt, path_ + ": field '" + field + "' is not an integer");
  return st.integer(col);
}

void Reader::read_common(sql::Statement& m, int col) {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  auto id = blob_of(m, col, 16, "bundle_id");
  std::memcpy(info_.bundle_id.bytes.data(), id.data(), 16);
  auto exporter = blob_of(m, col + 1, 16, "exporter");
  std::memcpy(info_.exporter.bytes.data(), exporter.data(), 16);
  if (m.column_type(col + 2) != SQLITE_TEXT || m.text(col + 2).size() > kMaxNameBytes) fail("field 'exporter_name' is not a short text");
  info_.exporter_name = m.text(col + 2);
  info_.created_ms = int_of(m, col + 3, "created_ms");
  if (m.column_type(col + 4) != SQLITE_TEXT || (m.text(col + 4) != "delta" && m.text(col + 4) != "snapshot"))
    fail("has an unknown bundle kind");
  info_.snapshot = m.text(col + 4) == "snapshot";
}

void Reader::read_totals(sql::Statement& m, int col) {
  const auto ops = int_of(m, col, "operations");
  if (ops < 0) throw Error(Errc::corrupt, path_ + ": announces a negative number of operations");
  info_.operations = static_cast<std::size_t>(ops);
  const Bytes content = blob_of(m, col + 1, 32, "content_hash");
  std::memcpy(info_.content_hash.data(), content.data(), 32);
  std::memcpy(info_.signer_key.data(), blob_of(m, col + 2, 32, "signer_key").data(), 32);
  std::memcpy(info_.exporter_box_key.data(), blob_of(m, col + 3, 32, "box_key").data(), 32);
  std::memcpy(info_.signature.data(), blob_of(m, col + 4, 64, "signature").data(), 64);
}

void Reader::read_range(sql::Statement& r, const DeviceId& device, std::uint64_t& announced) {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  SeqRange range;
  range.device = device;
  const auto first = int_of(r, 1, "ranges.first_seq"), last = int_of(r, 2, "ranges.last_seq");
  if (first < 1 || last < first || static_cast<std::uint64_t>(last) > log::kMaxCounter)
    fail("has an invalid sequence range for device " + range.device.to_string());
  range.first = static_cast<std::uint64_t>(first);
  range.last = static_cast<std::uint64_t>(last);
  Hash prev{}, last_hash{};
  std::memcpy(prev.data(), blob_of(r, 3, 32, "ranges.prev_hash").data(), 32);
  std::memcpy(last_hash.data(), blob_of(r, 4, 32, "ranges.last_hash").data(), 32);
  if (info_.snapshot) {
    if (range.first != range.last || prev != Hash{}) fail("a snapshot's range must name one chain head");
  } else {
    if ((range.first == 1) != (prev == Hash{}))
      fail("range of device " + range.device.to_string() + " has a previous hash that does not fit its first sequence");
    announced += range.last - range.first + 1;
  }
  info_.ranges.push_back(range);
  info_.prerequisites.push_back(prev);
  info_.last_hashes.push_back(last_hash);
  PublicKey key{};
  Signature signature{};
  std::memcpy(key.data(), blob_of(r, 5, 32, "ranges.origin_key").data(), 32);
  std::memcpy(signature.data(), blob_of(r, 6, 64, "ranges.head_signature").data(), 64);
  info_.origin_keys.push_back(key);
  info_.head_signatures.push_back(signature);
}

void Reader::read_table(sql::Statement& t, int col) {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  TableInfo table;
  if (t.column_type(col) != SQLITE_TEXT || t.text(col).empty() || t.text(col).size() > kMaxNameBytes)
    fail("has a table name that is empty, too long or not text");
  table.name = t.text(col);
  if (!info_.tables.empty() && !(info_.tables.back().name < table.name))
    fail("table '" + printable(table.name) + "' is out of order or named twice");
  const std::string where = path_ + ": table '" + printable(table.name) + "'";
  for (int c = col + 1; c <= col + 2; ++c) {
    const Bytes b = blob_of(t, c, 0, c == col + 1 ? "tables.columns" : "tables.key");
    for (const auto& v : log::decode_values(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), where)) {
      if (v.type() != Value::Type::text || v.as_text().empty() || v.as_text().size() > kMaxNameBytes)
        fail("table '" + printable(table.name) + "' has a column name that is empty, too long or not text");
      (c == col + 1 ? table.columns : table.key).push_back(v.as_text());
    }
  }
  if (table.key.empty()) fail("table '" + printable(table.name) + "' has no primary key");
  for (const auto& k : table.key)
    if (std::find(table.columns.begin(), table.columns.end(), k) == table.columns.end())
      fail("table '" + printable(table.name) + "' has a key column that is not one of its columns");
  info_.tables.push_back(std::move(table));
}

void Reader::read_manifest() {
  if (info_.format_major >= 4) return read_manifest4();
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  auto m = db_->prepare("SELECT format_major, format_minor, bundle_id, exporter, exporter_name, created_ms, kind, clock, "
                        "operations, content_hash, signer_key, box_key, signature FROM ferry_bundle");
  if (!m.step()) fail("has no manifest row (ferry_bundle is empty)");
  if (int_of(m, 0, "format_major") != static_cast<std::int64_t>(info_.format_major)) fail("manifest and header disagree on the format version");
  const auto minor = int_of(m, 1, "format_minor");
  if (minor < 0 || minor > 0xffff) fail("has an invalid format_minor");
  info_.format_minor = static_cast<std::uint32_t>(minor);
  read_common(m, 2);
  const Bytes clock = blob_of(m, 7, 0, "clock");
  info_.clock = log::decode_clock(std::string_view(reinterpret_cast<const char*>(clock.data()), clock.size()),
                                  path_ + ": manifest clock");
  read_totals(m, 8);
  if (m.step()) fail("has more than one manifest row");

  std::uint64_t announced = 0;
  auto r = db_->prepare("SELECT origin, first_seq, last_seq, prev_hash, last_hash, origin_key, head_signature FROM ferry_ranges "
                        "ORDER BY origin");
  while (r.step()) {
    DeviceId origin;
    std::memcpy(origin.bytes.data(), blob_of(r, 0, 16, "ranges.origin").data(), 16);
    read_range(r, origin, announced);
  }
  if (!info_.snapshot && announced != info_.operations)
    fail("its ranges do not add up to the announced number of operations");

  auto t = db_->prepare("SELECT name, columns, key FROM ferry_tables ORDER BY name");
  while (t.step()) read_table(t, 0);
  info_.bytes = size_;
}

}  // namespace ferry::bundle
