#pragma once
// Scope expressions (bundle_format/format4.md §12.1): a scoped table names,
// when it is tracked, an SQL expression over its row's columns whose value
// is the scope the row belongs to. Rows of a table without one are in the
// shared scope ("").
//
// The expression must give every device the same scope for the same row, so
// it is held to what SQLite allows in a generated column: deterministic
// functions of the row's own columns, no subquery, no other table. Its value
// names the scope: an integer in decimal, a text as it is (log/chain.h's
// names); anything else holds the row back, named.

#include <optional>
#include <string>
#include <vector>

#include "capture/tables.h"
#include "ferry/value.h"
#include "sql/database.h"

namespace ferry::capture {

// Throws Error(invalid_argument) saying what is wrong with `expression` as
// the scope of `table` (SQLite's own words), changing nothing.
void check_scope_expression(sql::Database& db, const TrackedTable& table, const std::string& expression);

// The scope a value of a scope expression names, or nullopt with `why` set.
std::optional<std::string> scope_named_by(const Value& value, std::string& why);

// Evaluates one table's scope expression on rows as the sealer holds them.
class ScopeOf {
 public:
  // REQUIRES: `table` is scoped.
  ScopeOf(sql::Database& db, const TrackedTable& table);
  // The scope of the row whose values, in the table's column order, are
  // `row`; nullopt with `why` saying what the expression gave instead.
  std::optional<std::string> of(const std::vector<Value>& row, std::string& why);

 private:
  const TrackedTable& table_;
  sql::Statement select_;
};

}  // namespace ferry::capture
