#pragma once
// A Merkle tree hash over a sequence of 32-byte leaves, as RFC 6962 (section
// 2.1) defines it, so that inclusion proofs can be given for any leaf:
//   MTH({})      = SHA-256()
//   MTH({d})     = SHA-256(0x00 || d)
//   MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n
// Built incrementally, in memory logarithmic in the number of leaves.

#include <cstdint>
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

}  // namespace ferry::fingerprint
