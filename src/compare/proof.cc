// Inclusion proofs as text: what `ferry prove` prints and `ferry check-proof` reads.
#include <cerrno>
#include <cstdlib>

#include "ferry/compare.h"
#include "ferry/error.h"
#include "fingerprint/merkle.h"
#include "util/files.h"
#include "util/hex.h"

namespace ferry {
namespace {

constexpr const char* kPrefix = "ferry-proof-1:";
constexpr std::size_t kMaxPath = 64;  // A tree of 2^64 leaves has 64 levels.

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::uint64_t number(const std::string& text, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text.size() > 20 || *end != '\0' || errno != 0 || text[0] == '-' || text[0] == '+')
    throw Error(Errc::invalid_argument, std::string("proof: the ") + what + " '" + text.substr(0, 24) + "' is not a number");
  return v;
}

Hash hash(const std::string& text, const std::string& what) {
  auto h = util::hash_from_hex(text);
  if (!h) throw Error(Errc::invalid_argument, "proof: " + what + " is not 64 hex digits");
  return *h;
}

}  // namespace

std::string InclusionProof::to_text() const {
  std::string out = kPrefix + std::to_string(index) + ":" + std::to_string(size) + ":" + to_hex(operation_hash) + ":";
  for (std::size_t i = 0; i < path.size(); ++i) out += (i ? "," : "") + to_hex(path[i]);
  return out;
}

void InclusionProof::write(const std::string& file) const { util::write_file_atomically(file, to_text() + "\n", "proof"); }

InclusionProof InclusionProof::parse(const std::string& input) {
  std::string text;
  for (char c : input)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') text += c;
  if (text.compare(0, std::string(kPrefix).size(), kPrefix) != 0)
    throw Error(Errc::invalid_argument, std::string("proof: does not start with '") + kPrefix +
                                            "' (give what `ferry prove` printed, or the file it wrote)");
  const auto parts = split(text.substr(std::string(kPrefix).size()), ':');
  if (parts.size() != 4)
    throw Error(Errc::invalid_argument, "proof: expected INDEX:SIZE:OPERATION-HASH:SIBLINGS after the prefix, found " +
                                            std::to_string(parts.size()) + " parts");
  InclusionProof p;
  p.index = number(parts[0], "index");
  p.size = number(parts[1], "size");
  p.operation_hash = hash(parts[2], "the operation hash");
  if (!parts[3].empty()) {
    const auto siblings = split(parts[3], ',');
    if (siblings.size() > kMaxPath)
      throw Error(Errc::invalid_argument, "proof: " + std::to_string(siblings.size()) + " sibling hashes; at most 64 are possible");
    for (std::size_t i = 0; i < siblings.size(); ++i)
      p.path.push_back(hash(siblings[i], "sibling hash " + std::to_string(i + 1)));
  }
  return p;
}

std::optional<Hash> root_of(const InclusionProof& proof) {
  return fingerprint::root_from_path(proof.operation_hash, proof.index, proof.size, proof.path);
}

}  // namespace ferry
