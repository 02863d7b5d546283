#include "capture/scoped_rows.h"

#include <variant>

namespace ferry::capture {
namespace {

std::optional<LocalWriter::NotMade> not_made(std::variant<Operation, LocalWriter::NotMade>&& made) {
  if (auto* refused = std::get_if<LocalWriter::NotMade>(&made)) return std::move(*refused);
  return std::nullopt;
}

}  // namespace

ScopeOf& ScopedRows::scope_of(const TrackedTable& table) {
  auto found = scopes_.find(table.no);
  if (found == scopes_.end()) found = scopes_.emplace(table.no, ScopeOf(db_, table)).first;
  return found->second;
}

std::optional<LocalWriter::NotMade> ScopedRows::put(const TrackedTable& table, std::vector<Value> key,
                                                     const std::vector<Value>& row, std::vector<ColumnValue> changed,
                                                     bool inserted) {
  std::vector<ColumnValue> all;
  for (int p : table.sorted_positions) all.push_back({table.columns[static_cast<std::size_t>(p)], row[static_cast<std::size_t>(p)]});
  std::string why;
  const std::optional<std::string> scope = scope_of(table).of(row, why);
  if (!scope)
    return LocalWriter::NotMade{"the row cannot be sent: " + why + " (the scope of table '" + table.name + "' is " +
                                    table.scope + "; a scope is an integer or a text of 1 to 128 bytes)",
                                std::move(key), std::move(all)};
  const std::optional<std::string> was = writer_.shown_scope(table, key);
  if (was && *was == *scope && !inserted) {
    if (changed.empty()) return std::nullopt;
    return not_made(writer_.try_append(table.name, std::move(key), OpKind::update, std::move(changed), false, *scope));
  }
  if (was && *was != *scope) {  // A move: both halves are this device's to write, or neither is made.
    for (const std::string* s : {&*was, &*scope})
      if (std::string refused = writer_.may_not_write(table.name, *s); !refused.empty())
        return LocalWriter::NotMade{std::move(refused), std::move(key), std::move(all)};
    if (auto refused = not_made(writer_.try_append(table.name, key, OpKind::remove, {}, false, *was))) return refused;
  }
  return not_made(writer_.try_append(table.name, std::move(key), OpKind::insert, std::move(all), false, *scope));
}

std::optional<LocalWriter::NotMade> ScopedRows::remove(const TrackedTable& table, std::vector<Value> key) {
  const std::optional<std::string> was = writer_.shown_scope(table, key);
  if (!was) return std::nullopt;
  return not_made(writer_.try_append(table.name, std::move(key), OpKind::remove, {}, false, *was));
}

}  // namespace ferry::capture
