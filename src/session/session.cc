#include "session/session.h"

#include "replica/meta.h"
#include "replica/schema.h"

namespace ferry::session {
Session::Session(sql::Database& database, const DeviceId& self_id)
    : db(database),
      self(self_id),
      devices(database),
      tables(database),
      log(database, devices),
      merger(database, devices, tables, log),
      fleet(database),
      lamport(replica::get_meta_count(database, "lamport", 0)),
      scope_lamports(database),
      writer(devices, log, merger, fleet, self_id, lamport, scope_lamports),
      identity_in_doubt(replica::reuse_evidence(database).has_value()) {
  writer.set_format(replica::get_meta_count(database, replica::kSealFormatKey, 2) == 1 ? 1 : 2);
  replica::size_page_cache(database);  // The database may have grown since the connection opened.
  // Chains forgotten here (identity/forget.h): their operations may arrive late,
  // and what is made here follows what the operations held follow.
  for (const auto& [device, up_to] : replica::forgotten(database)) {
    const replica::Device* d = devices.find(device);
    if (d == nullptr) continue;
    merger.expect_late(d->no, up_to);
    writer.claim(device, up_to);
  }
}

std::size_t Session::seal() {
  if (identity_in_doubt) return 0;
  const std::size_t sealed = capture::seal(db, tables, writer);
  if (merger.has_deferred()) {  // Rows where another scope's state wins over what was sealed: shown as merged.
    tables.suspend_triggers();
    merger.rewrite_deferred();
    tables.restore_triggers();
  }
  // Triggers written by an older ferry are replaced once, after what they captured is sealed.
  const auto built = replica::get_meta(db, "capture_triggers");
  if (!built || built->type() != Value::Type::integer || built->as_integer() < capture::kTriggerVersion) {
    tables.rebuild_triggers();
    replica::set_meta(db, "capture_triggers", Value::integer(capture::kTriggerVersion));
  }
  log.flush();  // What follows a seal may read the log with SQL (a resolution reads a row's past).
  return sealed;
}

void Session::finish() {
  log.flush();
  merger.flush();
  devices.save();
  replica::set_meta(db, "lamport", Value::integer(static_cast<std::int64_t>(lamport)));
  scope_lamports.save();
}

}  // namespace ferry::session
