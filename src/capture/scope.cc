#include "capture/scope.h"

#include "ferry/error.h"
#include "log/chain.h"

namespace ferry::capture {
namespace {

std::string columns_as(const TrackedTable& table, bool with_parameters) {
  std::string out;
  for (std::size_t i = 0; i < table.columns.size(); ++i)
    out += (i ? ", " : "") + (with_parameters ? "?" + std::to_string(i + 1) + " AS " : std::string()) +
           sql::quote_identifier(table.columns[i]);
  return out;
}

}  // namespace

void check_scope_expression(sql::Database& db, const TrackedTable& table, const std::string& expression) {
  if (expression.empty()) throw Error(Errc::invalid_argument, "the scope expression of table '" + table.name + "' is empty");
  // A generated column takes exactly what the scope may be: SQLite refuses
  // there what is not deterministic, subqueries and other tables' columns.
  const std::string probe = "ferry_scope_probe";
  db.exec("DROP TABLE IF EXISTS temp." + probe);
  try {
    db.exec("CREATE TEMP TABLE " + probe + "(" + columns_as(table, false) + ", ferry_scope AS (" + expression + "))");
    db.exec("SELECT ferry_scope FROM temp." + probe);  // Functions unknown until used are found here.
  } catch (const Error& e) {
    db.exec("DROP TABLE IF EXISTS temp." + probe);
    throw Error(Errc::invalid_argument, "'" + printable(expression) + "' cannot be the scope of table '" +
                                            printable(table.name) + "': " + e.what() +
                                            " (a scope is a deterministic expression over the row's own columns)");
  }
  db.exec("DROP TABLE temp." + probe);
}

std::optional<std::string> scope_named_by(const Value& value, std::string& why) {
  std::string scope;
  switch (value.type()) {
    case Value::Type::integer: return std::to_string(value.as_integer());
    case Value::Type::text: scope = value.as_text(); break;
    case Value::Type::null: why = "its scope expression gives NULL"; return std::nullopt;
    case Value::Type::real: why = "its scope expression gives a REAL, " + value.to_display(); return std::nullopt;
    case Value::Type::blob: why = "its scope expression gives a BLOB"; return std::nullopt;
  }
  if (scope.empty()) {
    why = "its scope expression gives an empty text";
    return std::nullopt;
  }
  if (std::string problem = log::scope_problem(scope); !problem.empty()) {
    why = "its scope expression gives no scope: " + problem;
    return std::nullopt;
  }
  return scope;
}

ScopeOf::ScopeOf(sql::Database& db, const TrackedTable& table)
    : table_(table),
      select_(db.prepare("SELECT (" + table.scope + ") FROM (SELECT " + columns_as(table, true) + ")")) {}

std::optional<std::string> ScopeOf::of(const std::vector<Value>& row, std::string& why) {
  for (std::size_t i = 0; i < row.size(); ++i) select_.bind_view(static_cast<int>(i + 1), row[i]);
  if (!select_.step()) throw Error(Errc::internal, "the scope expression of table '" + table_.name + "' gave no row");
  const Value value = select_.value(0);
  select_.reset();
  return scope_named_by(value, why);
}

}  // namespace ferry::capture
