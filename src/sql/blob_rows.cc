#include "sql/blob_rows.h"

#include "sql/sqlite.h"

namespace ferry::sql {
namespace {

// A plain ? is numbered one above the highest number so far, so with a leading
// ?1 row i binds its key and blob to 2i + 2 and 2i + 3.
std::string values_for(int rows, bool leading) {
  const std::string row = leading ? "(?1,?,?)" : "(?,?)";
  std::string out = " VALUES" + row;
  for (int i = 1; i < rows; ++i) out += "," + row;
  return out;
}

void run_or_reset(Statement& st) {
  try {
    st.run();
  } catch (...) {
    st.reset();  // Ready for the next rows.
    throw;
  }
}

}  // namespace

BlobRows::BlobRows(Database& db, const std::string& insert_into, bool leading)
    : first_param_(leading ? 2 : 1),
      many_(db.prepare(insert_into + values_for(kRowsPerStatement, leading), true)),
      one_(db.prepare(insert_into + values_for(1, leading), true)) {}

void BlobRows::set_leading(std::string_view blob) {
  flush();
  many_.bind_blob(1, blob.data(), blob.size());  // Copied: bindings outlive the caller's bytes.
  one_.bind_blob(1, blob.data(), blob.size());
}

void BlobRows::add(std::int64_t key, std::string_view blob) {
  if (count_ == kRowsPerStatement || bytes_.size() + blob.size() > kMaxGatheredBytes) flush();
  if (blob.size() > kMaxGatheredBytes) {  // Written at once, without a copy.
    one_.bind(first_param_, key).bind_blob_view(first_param_ + 1, blob.data(), blob.size());
    run_or_reset(one_);
    return;
  }
  keys_[static_cast<std::size_t>(count_)] = key;
  bytes_.append(blob);
  ends_[static_cast<std::size_t>(++count_)] = bytes_.size();
}

std::optional<std::string_view> BlobRows::find(std::int64_t key) const {
  for (int i = count_ - 1; i >= 0; --i) {
    const auto n = static_cast<std::size_t>(i);
    if (keys_[n] == key) return std::string_view(bytes_).substr(ends_[n], ends_[n + 1] - ends_[n]);
  }
  return std::nullopt;
}

void BlobRows::flush() {
  struct Clear {  // Written or failed, the rows are gone from here.
    BlobRows& r;
    ~Clear() { r.count_ = 0, r.bytes_.clear(); }
  } clear{*this};
  auto bind = [&](Statement& st, int param, int row) {
    const auto n = static_cast<std::size_t>(row);
    st.bind(param, keys_[n]).bind_blob_view(param + 1, bytes_.data() + ends_[n], ends_[n + 1] - ends_[n]);
  };
  if (count_ == kRowsPerStatement) {
    for (int i = 0; i < count_; ++i) bind(many_, 2 * i + first_param_, i);
    run_or_reset(many_);
    return;
  }
  for (int i = 0; i < count_; ++i) {
    bind(one_, first_param_, i);
    run_or_reset(one_);
  }
}

}  // namespace ferry::sql
