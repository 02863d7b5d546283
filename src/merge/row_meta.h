#pragma once
// RowMeta: the merge state of one row in one scope (ferry_rows.meta), local
// to a database and never sent in bundles. Encoded as msgpack:
//   states   := [flags, existence frontier, [[column, frontier or nil], ...]]
//                 -- one state, of the shared scope: every table without a scope
//             | [flags, exist, columns, scope str, flags, exist, columns, scope str, ...]
//                 -- the states of scopes, by scope bytes (format4.md §12.2)
//   frontier := [[device no, seq, lamport, removes], ...]
// nil stands for "the same operations as the existence frontier" (a row
// written by one insert is then a few bytes plus its column names).
// flags bit 0: the row has open conflict records. A device number is that of
// a chain (log/chain.h): a device's own in the shared scope.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/value.h"

namespace ferry::merge {

// One operation in a frontier.
struct Stamp {
  std::int64_t device = 0;  // Local device number (ferry_devices.no).
  std::uint64_t seq = 0;
  std::uint64_t lamport = 0;
  bool removes = false;     // Written by a delete.
  friend bool operator==(const Stamp& a, const Stamp& b) { return a.device == b.device && a.seq == b.seq; }
};
using Frontier = std::vector<Stamp>;

struct RowMeta {
  std::string scope;  // Whose operations this state merges: "" the shared scope.
  Frontier exist;
  std::vector<std::pair<std::string, Frontier>> cols;  // A handful per row: a vector beats a map here.
  bool conflicted = false;

  // The frontier of `column`, created empty when absent.
  Frontier& cell(const std::string& column);
  const Frontier* find(const std::string& column) const;
};

// The merge state of a row: a state per scope operations on its key were
// written in, by scope bytes. Nearly always one; a row that moved between
// scopes, or was written in two at once, has more (format4.md §12.2).
using RowStates = std::vector<RowMeta>;
// The state of `scope`, created empty (in order) when absent.
RowMeta& state_of(RowStates& states, const std::string& scope);

Bytes encode_meta(const RowStates& states);
RowStates decode_meta(std::string_view bytes, const std::string& where);

// The row exists when its existence frontier's winner is an insert.
bool exists(const RowMeta& meta, const std::function<const Stamp*(const Frontier&)>& winner);

}  // namespace ferry::merge
