#pragma once
// A Merkle tree hash over a sequence of 32-byte leaves, as RFC 6962 (section
// 2.1) defines it, so that inclusion proofs can be given for any leaf:
//   MTH({})      = SHA-256()
//   MTH({d})     = SHA-256(0x00 || d)
//   MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n
// Built incrementally, in memory logarithmic in the number of leaves.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "ferry/operation.h"

namespace ferry::fingerprint {

class MerkleTree {
 public:
  void add(const Hash& leaf);
  std::uint64_t size() const { return size_; }
  Hash root() const;

 private:
  // Roots of perfect subtrees of decreasing size (in leaves), left to right.
  std::vector<std::pair<std::uint64_t, Hash>> stack_;
  std::uint64_t size_ = 0;
};

Hash leaf_hash(const Hash& data);
Hash node_hash(const Hash& left, const Hash& right);

// The audit path of RFC 6962 section 2.1.1 for leaf `index` of `leaves` (the
// data hashes, before leaf_hash): sibling subtree hashes from the leaf up.
// REQUIRES: index < leaves.size().
std::vector<Hash> audit_path(const std::vector<Hash>& leaves, std::uint64_t index);
// RFC 9162 section 2.1.3.2: the root that `path` leads to from `leaf` (a data
// hash) at `index` in a tree of `size` leaves; nullopt when the path cannot
// belong to such a tree.
std::optional<Hash> root_from_path(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                                   const std::vector<Hash>& path);

}  // namespace ferry::fingerprint
