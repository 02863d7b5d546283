#include "log/upgrade.h"

#include "ferry/error.h"
#include "log/codec.h"
#include "log/peer_clocks.h"
#include "log/store.h"
#include "replica/devices.h"
#include "replica/meta.h"
#include "replica/schema.h"

namespace ferry::log {

namespace {

// 3 -> 4: every operation held enters the causal index as it would have on arrival.
void add_causal_index(sql::Database& db) {
  replica::create_schema(db);  // Creates ferry_deps; everything else exists.
  replica::Devices devices(db);
  CausalIndex index(db);
  ChainReader chains(db);
  auto number_of = [&](const DeviceId& id) {
    const replica::Device* d = devices.find(id);
    if (d == nullptr)
      throw Error(Errc::corrupt, db.path() + ": an operation names device " + id.to_string() +
                                     ", which this database does not know; `ferry verify` says more");
    return d->no;
  };
  const std::string where = db.path() + ": log";
  for (const replica::Device& device : devices.all()) {
    const std::int64_t chain = device.no;
    auto record = [&](std::string_view body) { index.record(chain, decode(body, where), number_of); };
    for_each_in_base(db, device.id, record);
    chains.read(chain, device.base_seq + 1, device.head_seq, [&](std::uint64_t, std::string_view body) { record(body); });
  }
}

}  // namespace

void upgrade(sql::Database& db, int from) {
  if (from == 3) {
    try {
      add_causal_index(db);
    } catch (const Error& e) {
      if (e.code() != Errc::corrupt) throw;
      throw Error(Errc::corrupt, db.path() + ": cannot be upgraded from local format 3, and nothing was changed: " +
                                     e.what() + ". `ferry verify` of the ferry that prepared it names the damage");
    }
    from = 4;
  }
  if (from == 4) {  // Every device counts as moved: the next operation looks at each once, as before.
    replica::create_schema(db);
    db.exec("INSERT OR IGNORE INTO ferry_moved SELECT no FROM ferry_devices");
    from = 5;
  }
  if (from == 5 || from == 6) {  // The index replica::Devices reads from, and bases by id; nothing else changes.
    db.exec("DROP INDEX IF EXISTS ferry_devices_heads");
    replica::create_schema(db);
    name_bases_by_id(db, replica::Devices(db));
    from = 7;
  }
  if (from == 7) {  // ferry_grant_log, empty: no database of format 7 is in a fleet.
    replica::create_schema(db);
    from = 8;
  }
  if (from == 8) {  // ferry_chain_names, empty, and every table shared: format 8 had no scopes.
    auto has_scope = db.prepare("SELECT count(*) FROM pragma_table_info('ferry_tables') WHERE name = 'scope'");
    if (has_scope.step() && has_scope.integer(0) == 0)
      db.exec("ALTER TABLE ferry_tables ADD COLUMN scope TEXT NOT NULL DEFAULT ''");
    replica::create_schema(db);
    from = 9;
  }
  if (from == 9) {  // ferry_imported and ferry_written, empty: ferry sync reads older bundles again once.
    replica::create_schema(db);
    from = 10;
  }
  if (from != replica::kLocalSchemaVersion)
    throw Error(Errc::internal, db.path() + ": no upgrade leads from local format " + std::to_string(from));
  replica::set_meta(db, "format", Value::integer(replica::kLocalSchemaVersion));
}

}  // namespace ferry::log
