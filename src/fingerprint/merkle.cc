#include "fingerprint/merkle.h"

#include "hash/sha256.h"

namespace ferry::fingerprint {

Hash leaf_hash(const Hash& data) {
  const std::uint8_t prefix = 0x00;
  return hash::Sha256().update(&prefix, 1).update(data.data(), data.size()).finish();
}

Hash node_hash(const Hash& left, const Hash& right) {
  const std::uint8_t prefix = 0x01;
  return hash::Sha256().update(&prefix, 1).update(left.data(), left.size()).update(right.data(), right.size()).finish();
}

void MerkleTree::add(const Hash& leaf) {
  stack_.emplace_back(1, leaf_hash(leaf));
  // Two perfect subtrees of one size make one of twice the size.
  while (stack_.size() >= 2 && stack_[stack_.size() - 2].first == stack_.back().first) {
    auto right = stack_.back();
    stack_.pop_back();
    stack_.back() = {right.first * 2, node_hash(stack_.back().second, right.second)};
  }
  ++size_;
}

Hash MerkleTree::root() const {
  if (stack_.empty()) return hash::sha256("", 0);
  // The subtrees are perfect and decreasing in size: folding them from the right
  // splits each level at the largest power of two, as RFC 6962 does.
  Hash h = stack_.back().second;
  for (std::size_t i = stack_.size() - 1; i-- > 0;) h = node_hash(stack_[i].second, h);
  return h;
}

}  // namespace ferry::fingerprint
