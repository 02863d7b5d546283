#include "replica/schema.h"

#include "replica/meta.h"

#include <algorithm>

namespace ferry::replica {
namespace {

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS ferry_meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_devices(
  no INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  head_seq INTEGER NOT NULL DEFAULT 0,
  head_hash BLOB,
  announced_clock BLOB,
  announced_ms INTEGER,
  exported_clock BLOB,
  exported_ms INTEGER,
  base_seq INTEGER NOT NULL DEFAULT 0,
  base_hash BLOB,
  sign_key BLOB,
  box_key BLOB,
  trust TEXT NOT NULL DEFAULT 'none',
  forked INTEGER NOT NULL DEFAULT 0);
-- What replica::Devices reads of every device when all are needed, in id
-- order, without the rest of each row (hashes are read per device, when needed).
CREATE INDEX IF NOT EXISTS ferry_devices_list ON ferry_devices(id, head_seq, base_seq, name);
CREATE TABLE IF NOT EXISTS ferry_heads(
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY(device, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_forks(
  device BLOB NOT NULL,
  seq INTEGER NOT NULL,
  held_hash BLOB NOT NULL,
  held_body BLOB NOT NULL,
  other_hash BLOB NOT NULL,
  other_body BLOB NOT NULL,
  bundle TEXT NOT NULL,
  detected_ms INTEGER NOT NULL,
  PRIMARY KEY(device, seq, other_hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_tables(
  no INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  columns BLOB NOT NULL,
  key BLOB NOT NULL,
  tracked INTEGER NOT NULL DEFAULT 1,
  scope TEXT NOT NULL DEFAULT '');  -- The scope expression (capture/scope.h); '' for the shared scope.
CREATE TABLE IF NOT EXISTS ferry_capture(
  id INTEGER PRIMARY KEY,
  tbl INTEGER NOT NULL,
  kind INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ferry_log(
  id INTEGER PRIMARY KEY,  -- Local device number * 2^40 + seq (log/store.h).
  body BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS ferry_log_append_only_update BEFORE UPDATE ON ferry_log
BEGIN SELECT RAISE(ABORT, 'ferry_log is append-only: an operation cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS ferry_log_append_only_delete BEFORE DELETE ON ferry_log
BEGIN SELECT RAISE(ABORT, 'ferry_log is append-only: an operation cannot be deleted'); END;
CREATE TABLE IF NOT EXISTS ferry_deps(
  chain INTEGER NOT NULL,    -- Local number of the operation's origin device.
  dep INTEGER NOT NULL,      -- Local number of a device its clock names.
  seq INTEGER NOT NULL,      -- The operation's sequence number.
  dep_seq INTEGER NOT NULL,  -- From this operation on, its origin had seen dep up to dep_seq.
  PRIMARY KEY(chain, dep, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_peer_refs(  -- Bundles whose whole clocks kept clocks are (log/peer_clocks.h).
  device INTEGER NOT NULL,
  kind TEXT NOT NULL,        -- 'announced_clock' or 'exported_clock'.
  bundle_id BLOB NOT NULL,
  PRIMARY KEY(device, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_moved(  -- Heads moved since this device's newest operation (replica/devices.h).
  device INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS ferry_peer_bases(  -- Clocks peers' kept clocks are deltas from (log/peer_clocks.h).
  id INTEGER PRIMARY KEY,
  clock BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS ferry_base(
  origin BLOB NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY(origin, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_pending(
  origin BLOB NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY(origin, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_rows(
  tbl INTEGER NOT NULL,
  pk BLOB NOT NULL,
  meta BLOB NOT NULL,
  PRIMARY KEY(tbl, pk)) WITHOUT ROWID;
-- Whose each chain of a scope other than the shared one is (format4.md
-- §12.9): ferry_devices numbers such a chain by its derived id, as it numbers
-- a device; a device's shared chain has no row here.
CREATE TABLE IF NOT EXISTS ferry_chain_names(
  chain INTEGER PRIMARY KEY,   -- ferry_devices.no of the chain.
  owner INTEGER NOT NULL,      -- ferry_devices.no of the device whose key signs it.
  scope TEXT NOT NULL);
-- The greatest Lamport time applied in each scope but the shared one (replica/lamports.h).
CREATE TABLE IF NOT EXISTS ferry_lamports(scope TEXT PRIMARY KEY, lamport INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_grant_log(  -- Every grant of the fleet's administrator, as made (fleet/fleet.h).
  device BLOB NOT NULL,
  admin_seq INTEGER NOT NULL,  -- The administrator's operation that made it.
  read TEXT NOT NULL,
  write TEXT NOT NULL,
  relay TEXT NOT NULL,
  PRIMARY KEY(device, admin_seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ferry_conflicts(
  id INTEGER PRIMARY KEY,
  tbl TEXT NOT NULL,
  pk BLOB NOT NULL,
  col TEXT NOT NULL,
  winner_origin BLOB NOT NULL,
  winner_seq INTEGER NOT NULL,
  loser_origin BLOB NOT NULL,
  loser_seq INTEGER NOT NULL,
  detected_ms INTEGER NOT NULL,
  closed_ms INTEGER,
  closed_by_origin BLOB,
  closed_by_seq INTEGER,
  kind TEXT NOT NULL DEFAULT 'value',
  detail TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS ferry_conflicts_open ON ferry_conflicts(tbl, pk, col) WHERE closed_ms IS NULL;
-- Every bundle an import applied, by id and content hash: a carrier's folder
-- (ferry sync) is read again without importing the same bundle twice.
CREATE TABLE IF NOT EXISTS ferry_imported(
  bundle_id BLOB PRIMARY KEY,
  content_hash BLOB NOT NULL,
  imported_ms INTEGER NOT NULL) WITHOUT ROWID;
-- Every bundle this database wrote, by id: ferry sync tells its own files
-- from those a copy of this device (a restored backup) left in the folder.
CREATE TABLE IF NOT EXISTS ferry_written(
  bundle_id BLOB PRIMARY KEY,
  written_ms INTEGER NOT NULL) WITHOUT ROWID;
)sql";

}  // namespace

void configure_connection(sql::Database& db) {
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA temp_store=MEMORY");
  db.exec("PRAGMA trusted_schema=OFF");
  size_page_cache(db);
}

void size_page_cache(sql::Database& db) {
  if (db.borrowed()) return;  // The caller's connection keeps the cache it was given.
  auto size = db.prepare("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size");
  const std::int64_t kib = size.step() ? size.integer(0) / 1024 : 0;
  db.exec("PRAGMA cache_size=-" + std::to_string(std::clamp<std::int64_t>(kib, 8 << 10, 32 << 10)));
}

void create_schema(sql::Database& db) { db.exec(kSchema); }

int check_format(sql::Database& db) {
  const auto v = get_meta(db, "format");
  const std::int64_t format = v && v->type() == Value::Type::integer ? v->as_integer() : -1;
  if (format > kLocalSchemaVersion || format < 0)
    throw Error(Errc::refused, db.path() + ": was prepared by a newer ferry (local format " +
                                   (v ? v->to_display() : "?") + "); upgrade ferry to open it");
  if (format < kOldestUpgradableVersion)
    throw Error(Errc::refused, db.path() + ": was prepared by a pre-release ferry (local format " +
                                   std::to_string(format) + ") whose tables this version cannot read; prepare a fresh copy "
                                   "of the application tables with this ferry (`ferry init`, `ferry track`) and sync "
                                   "it from the other devices");
  return static_cast<int>(format);
}

bool has_schema(sql::Database& db) {
  auto st = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='ferry_meta'");
  st.step();
  return st.integer(0) == 1;
}

}  // namespace ferry::replica
