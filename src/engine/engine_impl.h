#pragma once
// Engine::Impl, shared by the files that implement Engine's methods, one
// group each: engine.cc (opening, tracking, log, status), export.cc,
// fleet.cc, import.cc, in_memory.cc, conflicts.cc, history.cc, trust.cc, reidentify.cc.
// Each method opens its transaction and session and calls the stages below
// (src/README.md); none holds a rule of its own.

#include <memory>
#include <optional>
#include <string>

#include "ferry/engine.h"
#include "ferry/reports.h"
#include "sql/database.h"
#include "trust/keys.h"

namespace ferry {

// Hidden from libferry.so, as its declaration in ferry/engine.h says.
struct Engine::Impl {
  sql::Database db;
  DeviceId self;
  std::string name;
  std::optional<trust::KeyPair> keys;  // Read from the key file when first needed.
  int upgraded_from = 0;  // The local format open() found and upgraded (log/upgrade.h), or 0.

  // Checks that the connection's database is one ferry prepared, in a format
  // this version reads or upgrades (then upgrades it), and makes the Impl around it.
  static std::unique_ptr<Impl> adopt(sql::Database db);

  // This device's private keys (trust/keys.h), checked against the public keys
  // the database holds. Throws if the key file is missing, loose or foreign.
  const trust::KeyPair& key_pair();
  // Seals what was captured, unless sealing is stopped (identity/identity.h):
  // what every method that only reads the log does first. Returns how many.
  std::size_t seal_captured();
};

// The scopes this database holds something of, for status (fleet.cc).
std::vector<ScopeHeld> held_scopes(sql::Database& db, const DeviceId& self);

}  // namespace ferry
