#pragma once
// Operations of scoped chains handed to a replica directly, as an import will
// once bundles carry scopes (bundle_format/format4.md §12.6): each chain named
// by its device and scope, appended, its head moved, its scope's Lamport time
// raised and the operation merged, capture suspended meanwhile.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ferry/operation.h"
#include "log/chain.h"
#include "support/support.h"

namespace test {

struct Carried {
  ferry::Operation op;
  std::string body;  // Canonical.
  ferry::Hash hash;
};

// Writes operations as devices would, one chain per (device, scope), on the
// table `table` whose key is one integer.
class ScopedWriter {
 public:
  explicit ScopedWriter(std::string table = "visits") : table_(std::move(table)) {}
  // The next operation of `device` in `scope`, following `deps` ((device,
  // scope) -> seq, chains of its scope or the shared one).
  Carried& write(const ferry::DeviceId& device, const std::string& scope, std::uint64_t lamport, ferry::OpKind kind,
                 std::int64_t id, std::vector<ferry::ColumnValue> columns,
                 std::map<std::pair<ferry::DeviceId, std::string>, std::uint64_t> deps = {});
  const std::vector<Carried>& made() const { return made_; }
  const ferry::log::ChainNames& names() const { return names_; }

 private:
  std::string table_;
  ferry::log::KnownChains names_;
  std::map<ferry::DeviceId, std::pair<std::uint64_t, ferry::Hash>> heads_;
  std::vector<Carried> made_;
};

// Applies `ops`, in the order given (which must be causal), to `to`; `names`
// names every scoped chain they name. Returns how many were new to it.
std::size_t deliver(Replica& to, const std::vector<Carried>& ops, const ferry::log::ChainNames& names);

// Every operation `from` holds, with the names of their chains added to `names`.
std::vector<Carried> log_of(const Replica& from, ferry::log::KnownChains& names);

}  // namespace test
