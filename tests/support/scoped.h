#pragma once
// Operations of scoped chains handed to a replica directly, as an import will
// once bundles carry scopes (bundle_format/format4.md §12.6): each chain named
// by its device and scope, appended, its head moved, its scope's Lamport time
// raised and the operation merged, capture suspended meanwhile.

#include <string>
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

// Applies `ops`, in the order given (which must be causal), to `to`; `names`
// names every scoped chain they name. Returns how many were new to it.
std::size_t deliver(Replica& to, const std::vector<Carried>& ops, const ferry::log::ChainNames& names);

// Every operation `from` holds, with the names of their chains added to `names`.
std::vector<Carried> log_of(const Replica& from, ferry::log::KnownChains& names);

}  // namespace test
