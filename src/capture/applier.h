#pragma once
// Applier: where an operation goes once sealed into the log -- the merge
// state, which merge::Merger keeps. Capture produces operations and merges
// nothing itself; the session (session/session.h) hands it the merger.

#include <optional>
#include <string>
#include <vector>

#include "capture/tables.h"
#include "ferry/operation.h"

namespace ferry::capture {

class Applier {
 public:
  virtual ~Applier() = default;
  // Applies `op`. With write_table, also writes the application table (a
  // resolution written by ferry itself); without, the table holds it already.
  virtual void apply(const Operation& op, bool write_table) = 0;
  // The value of the cell as merged so far; nullopt when no operation wrote it, or a delete won.
  virtual std::optional<Value> current(const TrackedTable& table, const std::vector<Value>& key,
                                       const std::string& column) = 0;
  // The scope whose state of the row the table shows (format4.md §12.2);
  // nullopt when the row exists in none.
  virtual std::optional<std::string> shown_scope(const TrackedTable& table, const std::vector<Value>& key) = 0;
};

}  // namespace ferry::capture
