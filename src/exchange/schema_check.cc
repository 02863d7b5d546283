#include "exchange/schema_check.h"

#include "fleet/fleet.h"

namespace ferry::exchange {

void SchemaCheck::check(const Operation& op) {
  auto it = checked_.find(op.table);
  if (it == checked_.end()) it = checked_.emplace(op.table, table(op.table)).first;
  for (const auto& c : op.columns)
    if (it->second.count(c.name) == 0)
      throw Error(Errc::refused, reader_.path() + ": writes column '" + printable(c.name) + "' of table '" +
                                     printable(op.table) + "', which " + db_path_ + " lacks (a peer added it); run "
                                     "the same ALTER TABLE " + printable(op.table) + " ADD COLUMN and `ferry track " +
                                     db_path_ + " " + printable(op.table) +
                                     "`, then import again. Nothing was imported.");
}

std::set<std::string> SchemaCheck::table(const std::string& name) const {
  const capture::TrackedTable* t = tables_.find(name);
  if ((t == nullptr || !t->tracked) && name == fleet::kGrantsTable)
    throw Error(Errc::refused, reader_.path() + ": carries grants of a fleet " + db_path_ + " has not joined; run "
                                   "`ferry fleet " + db_path_ + " join ADMIN KEY` with the identity `ferry status` "
                                   "shows on the fleet's administrator, then import again. Nothing was imported.");
  if (t == nullptr || !t->tracked)
    throw Error(Errc::refused, reader_.path() + ": writes table '" + printable(name) + "', which " + db_path_ +
                                   " does not track; create it with the same schema and run `ferry track " +
                                   db_path_ + " " + printable(name) + "`, then import again. Nothing was imported.");
  for (const auto& info : reader_.info().tables) {
    if (info.name != name) continue;
    if (info.key != t->key_names())
      throw Error(Errc::refused, reader_.path() + ": table '" + printable(name) +
                                     "' has a different primary key here than on the device that wrote the bundle");
    // Every device puts a row in the same scope, or rows would merge in different states (format4.md §12.1).
    if (info.scope != t->scope)
      throw Error(Errc::refused, reader_.path() + ": table '" + printable(name) + "' is " +
                                     (info.scope.empty() ? "shared" : "scoped by " + printable(info.scope)) +
                                     " on the device that wrote the bundle, but " +
                                     (t->scope.empty() ? "shared" : "scoped by " + printable(t->scope)) + " in " +
                                     db_path_ + "; track it alike on every device. Nothing was imported.");
  }
  return std::set<std::string>(t->columns.begin(), t->columns.end());
}

}  // namespace ferry::exchange
