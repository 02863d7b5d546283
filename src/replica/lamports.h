#pragma once
// The greatest Lamport time applied here in each scope other than the shared
// one (bundle_format/format4.md §12.9), kept in ferry_lamports; the shared
// scope's is ferry_meta's 'lamport' (session::Session::lamport). An
// operation of scope S takes one more than the greater of its scope's and
// the shared scope's, so that ascending (Lamport time, chain) stays a causal
// order over all that a reader of S holds.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "sql/database.h"

namespace ferry::replica {

class ScopeLamports {
 public:
  explicit ScopeLamports(sql::Database& db) : db_(db) {}
  // 0 when nothing of `scope` was applied here. REQUIRES: `scope` is not "".
  std::uint64_t get(const std::string& scope);
  // `lamport` was applied in `scope`: kept when greater. Saved by save().
  void raise(const std::string& scope, std::uint64_t lamport);
  void save();

 private:
  struct Held {
    std::uint64_t lamport = 0;
    bool dirty = false;
  };
  Held& held(const std::string& scope);

  sql::Database& db_;
  std::map<std::string, Held> held_;  // The scopes asked for or raised, each read once.
  std::optional<sql::Statement> read_;
};

}  // namespace ferry::replica
