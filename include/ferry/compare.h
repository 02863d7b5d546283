#pragma once
// Comparing what devices hold without bringing them together
// (bundle_format/README.md, "Fingerprints"): inclusion proofs of single
// operations, fingerprint files, the difference between two holdings, and the
// network view of several.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/reports.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

// That one operation is among those an operations root covers (RFC 6962).
struct InclusionProof {
  Hash operation_hash{};   // The leaf: the operation's hash (bundle_format/README.md, §2).
  std::uint64_t index = 0; // Its place among the operations, by (device id, seq), from 0.
  std::uint64_t size = 0;  // How many operations the tree covers.
  std::vector<Hash> path;  // Sibling subtree hashes, from the leaf up.

  // "ferry-proof-1:INDEX:SIZE:OPERATION-HASH:SIBLING,SIBLING,..." (hex), what
  // `ferry check-proof` reads.
  std::string to_text() const;
  // Throws Error(invalid_argument) naming the part that is malformed.
  static InclusionProof parse(const std::string& text);
  // Writes to_text() and a newline to `file`, replacing it atomically.
  void write(const std::string& file) const;
};

// The root the proof leads to; nullopt when its shape cannot belong to a tree of
// its size (too many or too few siblings, index beyond the size).
std::optional<Hash> root_of(const InclusionProof& proof);
inline bool check_proof(const Hash& root, const InclusionProof& proof) { return root_of(proof) == root; }

// A fingerprint file: the fingerprint as JSON, the same document as
// `ferry fingerprint --json`. write_fingerprint replaces `path` atomically;
// read_fingerprint throws Error(corrupt) naming the file and the field.
void write_fingerprint(const Fingerprint& fingerprint, const std::string& path);
Fingerprint read_fingerprint(const std::string& path);

// What one database, bundle or fingerprint file holds, per device.
struct Holding {
  struct Chain {
    DeviceId device;
    std::uint64_t first = 1;  // Operations first..last of the device (a bundle's range; 1..head otherwise).
    std::uint64_t last = 0;
    Hash last_hash{};
  };
  std::string path;
  std::string kind;                       // "database", "bundle" or "fingerprint"
  std::string label;                      // The device's name, or the file name.
  std::map<DeviceId, std::string> names;  // Device names known to this side.
  std::vector<Chain> chains;              // By device id.
  std::optional<Fingerprint> fingerprint; // Databases and fingerprint files; not bundles.
  // The hash of one operation, where this side can tell (databases: any it holds;
  // bundles: the last of a range and the one it continues from; fingerprints: the heads).
  std::function<std::optional<Hash>(const DeviceId&, std::uint64_t)> hash_at;

  // Opens a ferry database, a bundle or a fingerprint file, whichever `path` is.
  // Throws Error(not_found) for a missing file, Error(invalid_argument) for
  // anything else, Error(refused) for a bundle encrypted for someone.
  // With a `scope`, only what the shared scope and that scope hold
  // (Fingerprint::scope): Error(invalid_argument) for a fingerprint file of
  // another scope, or of everything.
  static Holding open(const std::string& path, const std::optional<std::string>& scope = std::nullopt);
  const Chain* chain(const DeviceId& device) const;
  std::string name_of(const DeviceId& device) const;
};

// How two holdings differ, device by device and table by table.
struct DeviceDifference {
  DeviceId device;
  std::string name;
  std::vector<SeqRange> only_first;   // Operations of the device the first side holds and the second lacks.
  std::vector<SeqRange> only_second;
  std::uint64_t forked_at = 0;        // Both hold this operation, with different hashes (0: no fork seen).
  bool unchecked = false;             // Neither side could show a hash where both hold the chain.
};

struct Difference {
  bool same_operations = false;        // Same chains, device by device.
  std::optional<bool> same_data;       // Unknown when one side is a bundle.
  std::vector<DeviceDifference> devices;  // Only the devices that differ.
  std::vector<std::string> tables_differ, tables_only_first, tables_only_second;
  bool identical() const { return same_operations && same_data.value_or(false); }
};

// Compares chain heads first: two equal heads vouch, through the hash chain, for
// every operation before them, so only the devices whose heads differ are
// looked into (one hash each, or a binary search for the first fork).
Difference diff(const Holding& first, const Holding& second);

// The network view: holdings grouped by what they hold (same chains and same
// data), each group with what it lacks against everything the others hold.
struct SyncGroup {
  std::vector<std::size_t> members;    // Indexes into the holdings given.
  std::vector<SeqRange> missing;       // Held elsewhere, not here.
  std::vector<SeqRange> forks;         // first == last: the operation this group holds with another hash than some other group.
  bool data_differs = false;           // Same chains as another group, but different rows.
};
std::vector<SyncGroup> network(const std::vector<Holding>& holdings);

}  // namespace ferry
#pragma GCC visibility pop
