#include "sql/blob_rows.h"

namespace ferry::sql {
namespace {

std::string values_for(int rows) {
  std::string out = " VALUES(?,?)";
  for (int i = 1; i < rows; ++i) out += ",(?,?)";
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

BlobRows::BlobRows(Database& db, const std::string& into)
    : many_(db.prepare("INSERT INTO " + into + values_for(kRowsPerStatement), true)),
      one_(db.prepare("INSERT INTO " + into + values_for(1), true)) {}

void BlobRows::add(std::int64_t key, std::string_view blob) {
  if (count_ == kRowsPerStatement || bytes_.size() + blob.size() > kMaxGatheredBytes) flush();
  if (blob.size() > kMaxGatheredBytes) {  // Written at once, without a copy.
    one_.bind(1, key).bind_blob_view(2, blob.data(), blob.size());
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
    for (int i = 0; i < count_; ++i) bind(many_, 2 * i + 1, i);
    run_or_reset(many_);
    return;
  }
  for (int i = 0; i < count_; ++i) {
    bind(one_, 1, i);
    run_or_reset(one_);
  }
}

}  // namespace ferry::sql
