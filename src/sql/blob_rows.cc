#include "sql/blob_rows.h"

namespace ferry::sql {
namespace {

std::string values_for(int rows) {
  std::string out = " VALUES(?,?)";
  for (int i = 1; i < rows; ++i) out += ",(?,?)";
  return out;
}

}  // namespace

BlobRows::BlobRows(Database& db, const std::string& into)
    : many_(db.prepare("INSERT INTO " + into + values_for(kRowsPerStatement), true)),
      one_(db.prepare("INSERT INTO " + into + values_for(1), true)) {}

void BlobRows::add(std::int64_t key, std::string_view blob) {
  if (count_ == kRowsPerStatement) flush();
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
  auto run = [](Statement& st) {
    try {
      st.run();
    } catch (...) {
      st.reset();  // Ready for the next rows.
      throw;
    }
  };
  if (count_ == kRowsPerStatement) {
    for (int i = 0; i < count_; ++i) bind(many_, 2 * i + 1, i);
    run(many_);
    return;
  }
  for (int i = 0; i < count_; ++i) {
    bind(one_, 1, i);
    run(one_);
  }
}

}  // namespace ferry::sql
