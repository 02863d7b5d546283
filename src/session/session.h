#pragma once
// Session: everything one engine call needs inside its transaction -- the
// device registry, the tracked tables, the log, the merge state and the local
// writer, which hands what it seals to the merger -- loaded at the start and
// saved by finish(). Chains forgotten here (identity/forget.h) are made known
// to the merger and the writer when it opens.

#include <cstdint>

#include "capture/sealer.h"
#include "capture/tables.h"
#include "fleet/fleet.h"
#include "log/store.h"
#include "merge/merger.h"
#include "replica/devices.h"
#include "replica/lamports.h"
#include "sql/database.h"

namespace ferry::session {

struct Session {
  Session(sql::Database& db, const DeviceId& self);

  // Seals captured changes (capture/sealer.h). Seals nothing, and leaves them
  // captured, while an import's evidence says another database uses this
  // device's identity (identity/identity.h).
  std::size_t seal();
  // Writes the log appends and merge state held back, saves chain heads and
  // the Lamport time. Call before committing, and before reading ferry_log or
  // ferry_rows with SQL.
  void finish();

  sql::Database& db;
  DeviceId self;
  replica::Devices devices;
  capture::Registry tables;
  log::Store log;
  merge::Merger merger;
  fleet::Fleet fleet;  // What each device may write (fleet/fleet.h).
  std::uint64_t lamport;  // Greatest Lamport time of any operation of the shared scope applied here.
  replica::ScopeLamports scope_lamports;  // Those of the other scopes.
  capture::LocalWriter writer;
  bool identity_in_doubt;  // Evidence of another database with this identity is kept.
};

}  // namespace ferry::session
