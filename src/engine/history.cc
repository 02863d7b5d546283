// Engine::history, row_at and table_as_of (history/history.h).
#include <sys/stat.h>

#include "engine/engine_impl.h"
#include "history/history.h"

namespace ferry {

std::vector<RowVersion> Engine::history(const std::string& table, const std::vector<Value>& key) {
  impl_->seal_captured();
  return history::row_history(impl_->db, table, key);
}

std::optional<std::vector<ColumnValue>> Engine::row_at(const std::string& table, const std::vector<Value>& key,
                                                       const PastPoint& at) {
  impl_->seal_captured();
  return history::row_at(impl_->db, table, key, at);
}

AsOfSummary Engine::table_as_of(const std::string& table, const PastPoint& at, const std::string& path) {
  check_output(path, "copy");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0)
    throw Error(Errc::refused, path + ": already exists; ferry writes the copy to a new file only (choose another name)");
  impl_->seal_captured();
  return history::table_as_of(impl_->db, table, at, path);
}

}  // namespace ferry
