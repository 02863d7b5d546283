#pragma once
// Plain result types returned by ferry::Engine and ferry::inspect_bundle.
// Expected outcomes (a log that does not verify, conflicts found by an import)
// are values here, not exceptions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/ids.h"
#include "ferry/operation.h"
#include "ferry/vector_clock.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

struct VerifyReport {
  bool ok = true;
  std::size_t operations = 0;   // Operations checked.
  std::size_t devices = 0;      // Chains checked.
  std::string first_failure;    // Empty when ok; otherwise names the first operation that fails.
};

struct TableInfo {
  std::string name;
  std::vector<std::string> columns;  // In table order, as captured by the triggers.
  std::vector<std::string> key;      // Primary-key columns in key order.
  // The scope expression of a scoped table (bundle_format/format4.md §12.1);
  // empty for a table every device shares.
  std::string scope;
};

// A chain of a scope other than the shared one (bundle_format/format4.md
// §12.9): the id it is known by, the device whose key signs it, its scope.
struct ScopedChain {
  DeviceId chain;
  DeviceId device;
  std::string scope;
};

// A run of operations of one origin device: seq first..last.
struct SeqRange {
  DeviceId device;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

// How far this database trusts a device (`ferry trust`).
enum class Trust {
  none,     // Known only by name or id: its key was never seen (e.g. only named in a clock).
  self,     // This device.
  added,    // Added by a person with `trust add`, key checked by them.
  tofu,     // Key pinned from the first bundle that brought it (trust on first use).
  removed,  // Removed with `trust remove`: its operations are refused.
};
const char* to_string(Trust trust) noexcept;

// A device's grant from its fleet's administrator (bundle_format/format4.md
// §12.3): the scopes it may read, write and relay. A scope name "" is the
// shared scope (every table tracked without a scope), "*" every scope.
struct GrantInfo {
  DeviceId device;
  std::string name;
  std::vector<std::string> read, write, relay;  // Sorted by bytes; all empty: revoked.
  std::uint64_t admin_seq = 0;                  // The administrator's operation that made it.
};

// The fleet this database is in (Engine::fleet).
struct FleetInfo {
  std::optional<DeviceId> administrator;  // None: in no fleet, every device writes everything.
  std::string administrator_key;          // Its public key as pinned here (128 hex digits): what fleet_join takes.
  bool started = false;                   // The administrator's first grant is held here.
  std::vector<GrantInfo> grants;          // Each device's newest grant held here, by device id.
};

struct PeerInfo {
  DeviceId id;
  std::string name;
  bool is_self = false;
  Trust trust = Trust::none;
  std::string public_key;   // 128 hex digits (signing key, then encryption key); empty if never seen.
  std::string fingerprint;  // "3f2a 91c0 7d44 b2e1 0c9d": what people compare by voice; empty if no key.
  bool forked = false;      // Signed two different operations with one sequence number (see StatusReport::forks).
  std::uint64_t head = 0;                // Highest sequence of this device held here.
  std::optional<VectorClock> announced;  // Newest clock the device announced in a bundle.
  std::int64_t announced_ms = 0;
  std::optional<VectorClock> exported;   // What the last export to it carried up to.
  std::int64_t exported_ms = 0;
  std::optional<GrantInfo> grant;        // In a fleet: its newest grant held here (Engine::peers, status).
};

// What Engine::trust_add did. When the key it pins replaces another signing
// key under which operations of the device were admitted here, and the caller
// said to forget them, they are removed (bundle_format/README.md §14, "A key
// replaced"): the device's own operations under those numbers can then come in.
struct TrustAdded {
  bool replaced = false;              // Another signing key was pinned for the device.
  std::string previous_fingerprint;   // Its fingerprint, when replaced.
  std::uint64_t forgotten = 0;        // Operations of the device admitted under it, removed from the log.
  std::uint64_t forgotten_up_to = 0;  // The greatest sequence number among them.
  std::uint64_t rows = 0;             // Rows they wrote, rebuilt from the operations left.
  std::uint64_t followers = 0;        // Operations of other devices held here whose clocks name them,
  std::uint64_t followed_up_to = 0;   // up to this number: they apply elsewhere once the device's own are that far.
};

// Evidence that a device's history forked: two different operations with the
// same origin and sequence number, both as received.
struct ForkEvidence {
  DeviceId device;             // Whose chain forked: the device that signed both,
  std::string scope;           // in this scope's chain ("" for its own; format4.md §12.9).
  std::uint64_t seq = 0;
  Hash held_hash{};            // The operation this database holds (applied or pending).
  std::string held_body;       // Its canonical bytes (bundle_format/README.md section 3).
  Hash other_hash{};           // The one that arrived later and was refused.
  std::string other_body;
  std::string bundle;          // The file that brought the later one.
  std::int64_t detected_ms = 0;
};

// A row of a tracked table that is not sealed because its operation would be
// larger than a bundle may carry (a value over 64 MiB): kept out of the log,
// and sealed as it then is once it fits again. Everything else syncs meanwhile.
struct HeldRow {
  std::string table;
  std::vector<Value> key;
  std::string reason;        // What is too large, by how much.
  std::int64_t since_ms = 0;
};

// A scope other than the shared one that this database holds something of
// (bundle_format/format4.md §12.7).
struct ScopeHeld {
  std::string scope;
  std::size_t chains = 0;        // Its chains that hold something here.
  std::uint64_t operations = 0;  // Its operations in the log (applied).
  std::size_t waiting = 0;       // Its operations in ferry_pending: relayed, or waiting for their past.
  bool reads = true;             // This device may read it; else it relays it.
};

struct StatusReport {
  DeviceId device;
  std::string device_name;
  std::string public_key;   // As PeerInfo::public_key: what other devices add with `ferry trust add`.
  std::string fingerprint;
  bool strict = false;      // Trust policy: only added devices (true) or trust on first use (false).
  bool ferry3_compatible = false;  // Seals operations ferry 3.x reads (Engine::set_ferry3_compatible).
  std::vector<ForkEvidence> forks;
  // Set when an import found another database using this device's identity
  // (what it found): nothing is sealed until Engine::reidentify.
  std::string identity_reused;
  VectorClock clock;
  std::vector<std::string> tables;
  std::size_t operations = 0;         // In the log (sealed).
  std::vector<SeqRange> missing;      // Sequence ranges that pending operations wait for.
  std::size_t pending_operations = 0;
  std::size_t conflicts_open = 0;
  std::vector<PeerInfo> peers;
  std::vector<HeldRow> held;          // Rows held back from sealing: not sent until they fit.
  FleetInfo fleet;                    // The administrator and every grant held here.
  std::vector<ScopeHeld> scopes;      // By name.
};

// What Engine::reidentify did.
struct Reidentified {
  DeviceId previous;                // The identity this database had: now a device like any other...
  std::uint64_t previous_head = 0;  // ...whose operations it holds up to here, where its chain is shared.
  std::uint64_t reissued = 0;       // Operations sealed here after that, which never left: made again as
                                    // the new identity's 1..reissued, with the same changes and past.
  DeviceId device;                  // The new identity, with a new key pair:
  std::string public_key;           // what other devices add with `ferry trust add` (strict policy),
  std::string fingerprint;          // and compare.
  std::string evidence;             // What the import that stopped the seal found; empty if none did.
};

struct ExportSummary {
  bool written = true;  // False: nothing new for the peer (ExportOptions::only_news), no file.
  std::string path;
  std::optional<DeviceId> encrypted_for;  // Set when the bundle was encrypted for that device.
  OperationId bundle_id;
  std::size_t operations = 0;    // Operations the peer lacks, and their ranges:
  std::vector<SeqRange> ranges;  // the receipt is not among them.
  // The bundle also carries the peer's newest own operation held here, so that
  // a restored or copied database finds out (bundle_format/README.md §7).
  bool receipt = false;
  std::size_t carried = 0;  // Every operation the file holds: `operations`, and the receipt if any.
  std::uint64_t bytes = 0;
  std::vector<HeldRow> held;  // Rows held back from sealing, so not in this bundle (StatusReport::held).
};

// A scope this device may no longer read, which an import removed from it
// (bundle_format/format4.md §12.4), or kept because `unsent` of this device's
// own operations in it have reached no peer yet (then nothing was removed).
struct ScopeRemoved {
  std::string scope;
  std::size_t operations = 0;  // Operations applied here before, removed.
  std::size_t rows = 0;        // Rows whose state in the scope was removed.
  std::size_t left_out = 0;    // Operations received (this import or earlier), never applied, not kept.
  std::size_t unsent = 0;
};

struct ImportSummary {
  std::size_t applied = 0;     // Operations now reflected in the tables (this bundle's and earlier pending ones).
  std::size_t duplicates = 0;  // Already present; skipped.
  std::size_t pending = 0;     // Stored, waiting for earlier operations to arrive.
  std::size_t conflicts = 0;   // Conflicts this import opened that are still open (settled by the winner rule meanwhile).
  std::vector<SeqRange> missing;  // What the pending operations still wait for.
  std::size_t foreign_key_violations = 0;  // Rows of tracked tables whose parent row is missing after the import.
  std::vector<PeerInfo> newly_trusted;     // Devices whose keys this import pinned (trust on first use).
  // Operations an earlier import left pending that proved impossible once
  // ready (a Lamport time no device could have given them), one message each.
  std::vector<std::string> discarded;
  std::vector<ScopeRemoved> removed_scopes;  // Scopes this device may no longer read.
};

struct BundleInfo {
  // A snapshot bootstraps a new device: its ranges hold each device's chain head
  // (first == last == the head) and its operations are only those the current
  // state depends on (bundle_format/README.md, "Snapshots").
  bool snapshot = false;
  std::uint32_t format_major = 0;
  std::uint32_t format_minor = 0;
  OperationId bundle_id;
  DeviceId exporter;
  std::string exporter_name;
  std::int64_t created_ms = 0;
  VectorClock clock;                // The exporter's full clock when it wrote the bundle, but:
  // 4.1 (bundle_format/README.md §4): the device the bundle was written for,
  // and the bundle, by id, in which that device announced the clock `clock`
  // is written against. With a reference, `clock` holds only the exporter's
  // entries that differ from that clock (always the addressee's own), and
  // `clock_dropped` the devices that clock names of which the exporter holds nothing.
  std::optional<DeviceId> addressee;
  std::optional<OperationId> reference;
  std::vector<DeviceId> clock_dropped;
  std::vector<SeqRange> ranges;     // Operations carried, per origin device.
  std::vector<Hash> prerequisites;  // Per range: the hash the range continues from (zeros for seq 1).
  std::vector<Hash> last_hashes;    // Per range: the hash of its last operation.
  std::vector<TableInfo> tables;    // Schema of the tracked tables the operations touch.
  // 4.2: the chains of a scope the bundle names (ranges, clock, deps), by chain id.
  std::vector<ScopedChain> scoped_chains;
  std::size_t operations = 0;
  std::uint64_t bytes = 0;          // File size.
  Hash content_hash{};
  // Format 2 signatures (bundle_format/README.md, "Signatures").
  PublicKey signer_key{};           // The exporter's signing key...
  PublicKey exporter_box_key{};     // ...and the key bundles for it are encrypted to.
  std::string exporter_fingerprint;
  Signature signature{};            // The exporter's, over the content hash.
  std::vector<PublicKey> origin_keys;        // Per range: the origin's signing key...
  std::vector<Signature> head_signatures;    // ...and its signature of (origin, last, last hash).
  // An encrypted bundle shows only its recipient and size; every other field is empty.
  std::optional<DeviceId> encrypted_for;
};

struct ChainHead {
  DeviceId device;
  std::uint64_t seq = 0;
  Hash hash{};
  // A device started from a snapshot holds the chain from base + 1 on (0: from 1).
  std::uint64_t base = 0;
};

struct TableDigest {
  std::string name;
  std::uint64_t rows = 0;
  Hash digest{};  // Of this table's part of Fingerprint::state.
};

// What two devices compare to know whether they hold the same data
// (bundle_format/README.md, "Fingerprints").
struct Fingerprint {
  DeviceId device;                  // Whose fingerprint, and when it was taken.
  std::string device_name;
  std::int64_t taken_ms = 0;
  Hash operations{};                // Merkle root (RFC 6962) over the operations held, by (device id, seq).
  std::uint64_t operation_count = 0;
  Hash state{};                     // Digest of the tracked tables' rows.
  std::vector<TableDigest> tables;  // Each tracked table's digest, by name.
  std::vector<ChainHead> heads;     // Each device's chain head held here, by device id.
  // Of one scope (bundle_format/format4.md §12.7): the shared tables and the
  // chains of the shared scope, with the chains of `scope` and the rows of
  // scoped tables whose scope expression gives it. nullopt: everything held.
  std::optional<std::string> scope;
};

struct ConflictInfo {
  std::int64_t id = 0;        // Local number, for `resolve`.
  // "value": concurrent writes to one cell (winner and loser differ).
  // "constraint": applying `winner` here broke a UNIQUE, NOT NULL or CHECK constraint
  // other than the primary key, so its row write was skipped on this device (detail
  // says which); resolving it only acknowledges it, on this device.
  std::string kind = "value";
  std::string detail;
  std::string table;
  std::vector<Value> key;
  std::string column;         // Empty for a row-level conflict (insert against delete).
  Operation winner;
  Operation loser;
  std::optional<Value> winner_value;  // nullopt when that side deleted the row.
  std::optional<Value> loser_value;
  std::int64_t detected_ms = 0;
};

}  // namespace ferry
#pragma GCC visibility pop
