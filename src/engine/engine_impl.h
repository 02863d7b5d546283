#pragma once
// Engine::Impl, shared by the files that implement Engine's methods
// (engine.cc: identity, tracking, log, status; exchange.cc: export and import;
// conflicts.cc: listing and resolving conflicts).

#include <string>

#include "ferry/engine.h"
#include "sql/database.h"

namespace ferry {

struct Engine::Impl {
  sql::Database db;
  DeviceId self;
  std::string name;
};

}  // namespace ferry
