#pragma once
// The stored form of an operation in a format 4.0 bundle's segments
// (bundle_format/format4.md §5): the operation without what its range, its
// position in the range and the bundle's tables already say. A reader turns
// it back into the canonical encoding (log/codec.h), which is what is hashed
// and checked, as 3.0 does with prev_hash.
//
// stored  := stored2 | stored1
// stored2 := array(7) [ uint lamport_step, int time_step,
//                       array[ array(2)[uint chain, uint seq] ] deps (chain numbers ascending:
//                                                               chain id order, format4.md §12.6),
//                       uint table, array[value] key, uint kind,
//                       array[ array(2)[uint column, value] ] columns (column numbers ascending) ]
// stored1 := array(2) [ nil, bin body ]   a format 1 operation (sealed before
//                                         4.0, or for ferry 3.x): its canonical body
//                                         without prev_hash, as in 3.0
//
// lamport = previous lamport + lamport_step (step ≥ 1: Lamport times grow
// along a chain), time_ms = previous time_ms + time_step, "previous" being
// the operation before it in its range, or 0 for a range's first. Chains and
// tables are numbered from 1 in the bundle's ferry_chains and ferry_tables;
// a column by its position (from 0) in its table's columns.
//
// One operation has one stored form: a reader re-encodes what it decoded and
// refuses other bytes, as it does for the canonical encoding.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ferry/operation.h"
#include "log/chain.h"

namespace ferry::bundle {

struct TableShape {
  std::string name;
  std::vector<std::string> columns;  // In table order: the numbering of columns.
};

// What the stored form leaves out: where the operation sits.
struct Position {
  DeviceId origin;
  std::uint64_t seq = 0;
  Hash prev_hash{};
  std::uint64_t prev_lamport = 0;  // 0 for a range's first operation.
  std::uint64_t prev_time_ms = 0;  // 0 for a range's first operation.
};

class StoredForms {
 public:
  // `chains` and `tables` in the bundle's numbering: element i is number i + 1.
  // `names` names the chains of a scope among `chains` (log/chain.h).
  StoredForms(std::vector<DeviceId> chains, std::vector<TableShape> tables, log::KnownChains names = {});

  // Appends the stored form of `op`, which sits at `at`, to `out`. Throws
  // Error(invalid_argument) for a chain or table not numbered here.
  void encode(const Operation& op, const Position& at, std::string& out) const;
  // As encode, from the canonical bytes of a format 2 operation this
  // database holds (its log, whose chain is checked as it is read): the
  // stored form is written from those bytes field by field, values copied as
  // they are, without building the operation. Sets `lamport` and `time_ms`
  // to the operation's, from which the next one's steps count. Throws
  // Error(corrupt) for bytes that are not such an operation.
  void encode_held(std::string_view body, const Position& at, std::string& out, std::uint64_t& lamport,
                   std::uint64_t& time_ms) const;
  // Appends the stored form of the format 1 operation whose canonical bytes
  // are `body`, without decoding it.
  static void encode_format1(std::string_view body, std::string& out);

  // Decodes the stored form that starts at `offset` in `segment`, moving
  // `offset` past it; returns the operation at `at` and sets `canonical` to its
  // canonical encoding. Throws Error(corrupt) naming the field for anything
  // that is not exactly a stored form of a well-formed operation, and
  // Error(refused) for a format or scope newer than this ferry reads.
  // `rebuild_only`: for a bundle this process has just written (export's
  // read-back), the canonical bytes are rebuilt for their hash without the
  // checks a stranger's bundle needs (the content hash still finds any change).
  Operation decode(std::string_view segment, std::size_t& offset, const Position& at, std::string& canonical,
                   const std::string& where, bool rebuild_only = false) const;
  // When the stored form at `offset` is that of a format 1 operation, sets
  // `canonical` to its canonical bytes without decoding them, moves `offset`
  // past it and returns true; else returns false, changing nothing. For a
  // bundle this process has just written (export's read-back): decode()
  // checks everything else.
  static bool rebuild_format1(std::string_view segment, std::size_t& offset, const Hash& prev, std::string& canonical,
                              const std::string& where);

 private:
  std::vector<DeviceId> chains_;
  std::vector<TableShape> tables_;
  log::KnownChains names_;
  std::unordered_map<std::string, std::uint64_t> chain_numbers_;  // By the 16 id bytes.
  std::unordered_map<std::string, std::uint64_t> table_numbers_;
};

}  // namespace ferry::bundle
