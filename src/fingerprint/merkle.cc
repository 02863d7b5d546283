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

namespace {

std::uint64_t split(std::uint64_t n) {  // The largest power of two < n (n >= 2).
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash subtree(const std::vector<Hash>& leaves, std::uint64_t from, std::uint64_t to) {
  if (to - from == 1) return leaf_hash(leaves[from]);
  const std::uint64_t k = split(to - from);
  return node_hash(subtree(leaves, from, from + k), subtree(leaves, from + k, to));
}

void path_in(const std::vector<Hash>& leaves, std::uint64_t index, std::uint64_t from, std::uint64_t to,
             std::vector<Hash>& path) {
  if (to - from <= 1) return;
  const std::uint64_t k = split(to - from);
  if (index < from + k) {
    path_in(leaves, index, from, from + k, path);
    path.push_back(subtree(leaves, from + k, to));
  } else {
    path_in(leaves, index, from + k, to, path);
    path.push_back(subtree(leaves, from, from + k));
  }
}

}  // namespace

std::vector<Hash> audit_path(const std::vector<Hash>& leaves, std::uint64_t index) {
  std::vector<Hash> path;
  path_in(leaves, index, 0, leaves.size(), path);
  return path;
}

std::optional<Hash> root_from_path(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                                   const std::vector<Hash>& path) {
  if (index >= size) return std::nullopt;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash(leaf);
  for (const Hash& p : path) {
    if (sn == 0) return std::nullopt;
    if ((fn & 1) != 0 || fn == sn) {
      r = node_hash(p, r);
      while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1, sn >>= 1;
  }
  if (sn != 0) return std::nullopt;
  return r;
}

}  // namespace ferry::fingerprint
