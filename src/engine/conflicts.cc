// Engine::conflicts and Engine::resolve (session/resolve.h).
#include "engine/engine_impl.h"
#include "identity/identity.h"
#include "session/resolve.h"

namespace ferry {

std::vector<ConflictInfo> Engine::conflicts() {
  sql::Transaction tx(impl_->db);
  session::Session s(impl_->db, impl_->self);
  s.seal();
  s.finish();
  std::vector<ConflictInfo> out = session::open_conflicts(s);
  tx.commit();
  return out;
}

namespace {

Operation resolve_with(sql::Database& db, const DeviceId& self, std::int64_t id, const session::Chooser& choose) {
  identity::require_own_identity(db);  // A resolution is a new operation of this device.
  sql::Transaction tx(db);
  session::Session s(db, self);
  s.seal();
  Operation op = session::resolve(s, id, choose);
  s.finish();
  tx.commit();
  return op;
}

}  // namespace

Operation Engine::resolve(std::int64_t conflict_id, Keep keep) {
  return resolve_with(impl_->db, impl_->self, conflict_id, [&](const ConflictInfo& c, const Operation*& side) {
    side = keep == Keep::winner ? &c.winner : &c.loser;
    return keep == Keep::winner ? c.winner_value : c.loser_value;  // For a row-level conflict: nullopt for the delete side.
  });
}

Operation Engine::resolve(std::int64_t conflict_id, const Value& value) {
  return resolve_with(impl_->db, impl_->self, conflict_id,
                      [&](const ConflictInfo& c, const Operation*& side) -> std::optional<Value> {
                        if (c.column.empty())
                          throw Error(Errc::invalid_argument,
                                      "conflict " + std::to_string(c.id) +
                                          " is about whether the row exists; settle it with --keep winner or --keep loser");
                        side = &c.winner;
                        return value;
                      });
}

}  // namespace ferry
