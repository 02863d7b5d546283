#pragma once
// ferry::Engine is the library's front door: one application database, seen
// as one device that captures its changes and exchanges them with other
// devices through bundle files.
//
// Every method that changes something runs in one transaction: if it throws,
// the database is exactly as it was before the call. Captured changes are
// sealed into the operations log first by every method that reads or ships
// the log (seal, verify, status, export, import, conflicts, resolve, log),
// except after an import found another database using this device's identity:
// then they wait, and the methods that would seal refuse, until reidentify().

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/compare.h"
#include "ferry/error.h"
#include "ferry/history.h"
#include "ferry/reports.h"
#include "ferry/vector_clock.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

// Called now and then during long exports and imports: operations done so far, of total.
using Progress = std::function<void(std::size_t done, std::size_t total)>;

struct ExportOptions {
  std::string peer;                  // Device id, id prefix or name; empty with `all`.
  bool all = false;                  // Everything, whatever the peer announced.
  std::optional<VectorClock> since;  // Only what is not included in this clock.
  // A snapshot: the current state and each chain's head, to start a brand-new
  // device without replaying the history (bundle_format/README.md, "Snapshots").
  bool snapshot = false;
  // Device id, id prefix or name: encrypts the bundle so that only that device
  // can read it (bundle_format/README.md, "Encrypted bundles"). Its encryption
  // key must be known here: from a bundle it exported, or `trust_add`.
  std::string encrypt_for;
  // The bundle format's major version: 0 for the newest (4); 3 for a peer
  // still running ferry 3.x, during an upgrade (bundle_format/README.md §9).
  unsigned format = 0;
  // The largest bundle file to write, in bytes; 0: no limit. export_bundle
  // refuses (Error(refused)) a bundle over it; export_bundles cuts it into
  // parts (bundle_format/README.md §18). A snapshot is never cut.
  std::uint64_t max_size = 0;
  // For a carrier that keeps what it wrote (ferry sync): write nothing, and
  // return a summary whose `written` is false, when the peer would learn
  // nothing from the bundle: this device's clock is the one the last export to
  // the peer carried, and the peer lacks no operation or that last export is
  // `on_its_way` (a bundle still where the peer will find it).
  bool only_news = false;
  std::optional<OperationId> on_its_way;
  // The whole clock in a bundle for a peer, not only what differs from the
  // peer's last announcement (bundle_format/README.md §4). A peer that wrote
  // to this device again before importing the bundle knows this device's
  // clock then only in part, and sends it what it holds (ferry sync, where
  // devices write to each other on every run, needs the whole).
  bool whole_clock = false;
  Progress progress;                 // Optional.
};

enum class Keep { winner, loser };

struct LogFilter {
  std::optional<std::string> table;
  std::optional<std::vector<Value>> key;
  std::optional<DeviceId> device;
  std::size_t limit = 0;  // 0: no limit.
};

// An Engine is not safe for concurrent use: give each thread its own.
// Other connections and processes may read and write the database while it
// is open; their writes to tracked tables are captured too.
class Engine {
 public:
  // Prepares an application database (created if missing) for ferry and
  // gives it a device identity. On a database init already prepared it
  // changes nothing and keeps the existing identity and name.
  static Engine init(const std::string& path, const std::string& device_name = "");
  // Opens a database that init() has prepared. Throws Error(not_found) if the
  // file does not exist, Error(refused) if ferry never set it up.
  static Engine open(const std::string& path);
  // The same, on the caller's open SQLite connection (a `sqlite3*`, passed as
  // void* so that this header needs no SQLite): ferry works inside it, as it is
  // set up, and never closes it. Each call is one transaction of its own, or,
  // when the caller holds a transaction, a SAVEPOINT in it: the work commits
  // or rolls back with the caller's. The connection must outlive the Engine.
  // Exporting and reidentify need their own durable commits: use open() for them.
  static Engine on_connection(void* connection);

  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  // The local format the database had when this Engine opened it and upgraded
  // it in place to the current one (bundle_format/format4.md §8), in one
  // transaction, keeping every operation's hash and signature; 0 when it was
  // already current. Tell the user: the file no longer opens with an older ferry.
  int upgraded_from() const;

  DeviceId device_id() const;
  std::string device_name() const;
  const std::string& path() const;

  // Starts capturing every INSERT, UPDATE and DELETE on `table`, whoever makes
  // them. The first time, the rows already there become insert operations
  // (backfill), and their number is returned. Running it again after ALTER
  // TABLE ... ADD COLUMN picks up the new columns and returns 0.
  // Throws Error(not_found) for a missing table, Error(refused) for a table
  // without a declared PRIMARY KEY, a view, or a virtual table.
  std::size_t track(const std::string& table);
  // As track(table), for a scoped table (bundle_format/format4.md §12.1):
  // `scope` is an SQL expression over the row's columns (usually a column
  // name) whose value is the scope each row belongs to; every device tracks
  // the table with the same one. Throws Error(invalid_argument) for an
  // expression SQLite would not take as a generated column's, and
  // Error(refused) for a table tracked before with another scope (or none).
  std::size_t track(const std::string& table, const std::string& scope);
  // Stops capturing `table`; its operations stay in the log.
  void untrack(const std::string& table);
  std::vector<TableInfo> tables();

  // Gives this database a new device identity and key pair. Needed when an
  // import found another database using its identity (StatusReport::
  // identity_reused: a restored backup, a copied file): until then nothing is
  // sealed, and export, import, resolve, track, untrack and seal refuse. The
  // old identity becomes a device like any other: the operations held of it
  // up to where other devices share them stay, and the ones missing come from
  // other devices. Its operations that never left are made again under the new
  // identity (Reidentified::reissued), then the changes captured meanwhile are
  // sealed under it, all in one transaction.
  Reidentified reidentify();

  // Turns captured changes into operations; returns how many were made.
  std::size_t seal();
  // Recomputes every hash and chain link of the log.
  [[nodiscard]] VerifyReport verify();
  // What this device has seen, from every device.
  VectorClock clock();
  [[nodiscard]] StatusReport status();
  // The chains of a scope this database holds (bundle_format/format4.md
  // §12.9): what an operation's origin names when its scope is not the
  // shared one. peers() lists devices, never these.
  [[nodiscard]] std::vector<ScopedChain> scoped_chains();
  // Every device this one has exchanged bundles with: what each announced and
  // what the last export to it carried (StatusReport::peers, without the rest
  // of the status, whose counts read the whole log).
  [[nodiscard]] std::vector<PeerInfo> peers();
  // The Merkle root of the operations held and the digest of the tracked
  // tables: equal on replicas that hold the same operations and rows.
  Fingerprint fingerprint();
  // The same for one scope (bundle_format/format4.md §12.7): the shared
  // tables and chains, with `scope`'s chains and the rows of scoped tables in
  // it ("" for the shared scope alone). Equal on devices that hold the same
  // of them, whatever else each holds: a clinic's, and the head office's view
  // of that clinic.
  Fingerprint fingerprint(const std::string& scope);
  // That `operation` is among those fingerprint().operations covers: check it
  // with check_proof (ferry/compare.h) against a root read from another device.
  // Throws Error(not_found) when the log does not hold it.
  InclusionProof prove(const OperationId& operation);
  // Operations, newest first (by Lamport time, then device).
  std::vector<Operation> log(const LogFilter& filter = {});

  // History (ferry/history.h). Every version of one row, oldest first (by
  // Lamport time, then device), its deletions and re-creations included.
  // Throws Error(not_found) for a table ferry never tracked here.
  std::vector<RowVersion> history(const std::string& table, const std::vector<Value>& key);
  // The row's non-key values as they were at `at`; nullopt when it did not exist then.
  std::optional<std::vector<ColumnValue>> row_at(const std::string& table, const std::vector<Value>& key,
                                                 const PastPoint& at);
  // Writes a new SQLite database at `path` holding `table` (same definition) as
  // it was at `at`. The file appears complete or not at all; an existing file is
  // refused (Error(refused)).
  AsOfSummary table_as_of(const std::string& table, const PastPoint& at, const std::string& path);

  // Refuses, with Error(invalid_argument), an output path that would replace
  // this database, its -wal, -shm or -journal file or its key file (the same
  // file under any name), or that exists and is not a regular file (a symbolic
  // link, a FIFO, a device). export_bundle and table_as_of check their outputs
  // with it; a program writing another file for its user should do the same.
  // `what` names the output in the message ("bundle", "proof").
  void check_output(const std::string& path, const std::string& what) const;

  // Seals captured changes, then writes a bundle holding the operations the
  // peer lacks. The file appears at `path` complete, read back and verified, or
  // not at all, and only once the seal is committed (a failure after that
  // leaves the seal committed). With nothing to send, writes a bundle that only
  // carries this device's clock (an acknowledgement).
  ExportSummary export_bundle(const std::string& path, const ExportOptions& options);
  // The same, cut into parts of at most options.max_size bytes where the whole
  // would be larger: each an ordinary bundle that imports on its own and in any
  // order, at part_path(path, k, n); all written before any appears, and each
  // appears whole. Throws Error(refused), writing nothing, when an operation,
  // or a run of another device's operations signed as one, is over the limit
  // by itself. One summary per file, in order.
  std::vector<ExportSummary> export_bundles(const std::string& path, const ExportOptions& options);
  // Whether this database wrote the bundle of this id (BundleInfo, from
  // inspect_bundle): a bundle in this device's name that it did not write
  // comes from a copy of it (a restored backup), and is imported to find out.
  bool wrote(const OperationId& bundle_id);
  // Validates the bundle, then applies it in one transaction. Throws
  // Error(corrupt) for a damaged or forged bundle and Error(refused) for one
  // that cannot apply here (chain mismatch, unknown table or column); in both
  // cases the database is untouched.
  [[nodiscard]] ImportSummary import_bundle(const std::string& path, const Progress& progress = {});
  // Whether import_bundle applied the bundle of this id and content hash here
  // (BundleInfo, from inspect_bundle): a folder read again is passed over.
  bool imported(const OperationId& bundle_id, const Hash& content_hash);
  // The same through memory, for apps that carry bundles themselves: the
  // bundle's bytes, written to and read from a private file that is removed
  // after (a bundle in memory is as large as its file).
  std::string export_to_memory(const ExportOptions& options, ExportSummary* summary = nullptr);
  [[nodiscard]] ImportSummary import_from_memory(std::string_view bundle, const Progress& progress = {});

  std::vector<ConflictInfo> conflicts();
  // Settles an open conflict by writing a new operation that follows both
  // sides, so the same conflict closes on every replica that receives it.
  // Returns that operation. A conflict of kind "constraint" is only closed on
  // this device (no operation; the one it names is returned).
  // Throws Error(not_found) for an unknown or closed id.
  Operation resolve(std::int64_t conflict_id, Keep keep);
  Operation resolve(std::int64_t conflict_id, const Value& value);

  // The fleet (bundle_format/format4.md §12.3). fleet_init makes this device
  // the administrator of a new fleet, granting itself every scope; what it
  // holds now (its clock) is the fleet's starting history, allowed whoever
  // wrote it. fleet_join pins `administrator` (a device id) with its
  // `public_key` (as trust_add) as this database's administrator. Both are
  // refused for a database already in a fleet of another administrator.
  FleetInfo fleet_init();
  FleetInfo fleet_join(const std::string& administrator, const std::string& public_key, const std::string& name = "");
  // Administrator only: writes `device`'s grant (a device id, id end or name),
  // replacing the one before; the sets of GrantInfo, whose other fields are
  // ignored. revoke: a grant of nothing.
  GrantInfo grant(const std::string& device, const GrantInfo& sets);
  GrantInfo revoke(const std::string& device);
  // Administrator only: adds `history` (a clock, "DEVICE-ID:SEQ,...") to the
  // fleet's starting history, so that what those devices wrote up to there is
  // allowed whatever their grants (what a device wrote before it joined).
  FleetInfo admit(const std::string& history);
  FleetInfo fleet();

  // Trust (bundle_format/README.md, "Signatures"). This device's public key:
  // 128 hex digits that other devices give to trust_add.
  std::string public_key();
  // Lets the device's operations in, signed with `public_key` (128 hex digits,
  // or 64: the signing key alone), replacing any key pinned before. Throws
  // Error(invalid_argument) for a malformed key or this device's own id.
  // Replacing a signing key under which operations of the device were admitted
  // here throws Error(refused), changing nothing, unless `forget_held`: then
  // those operations are forgotten, as not the device's (TrustAdded says what
  // left), and the device's own can come in.
  TrustAdded trust_add(const std::string& device, const std::string& public_key, const std::string& name = "",
                       bool forget_held = false);
  // Refuses the device's operations from now on (also when others relay them).
  void trust_remove(const std::string& device);
  // Every device whose key is known, this one first.
  std::vector<PeerInfo> trusted();
  // strict: only devices added with trust_add (and this one). Otherwise (the
  // default) trust on first use: the first bundle that brings a device's key
  // pins it, and the import summary says so.
  void set_strict(bool strict);
  bool strict();  // As set_strict left it (StatusReport::strict, without the rest of status).
  // While a peer still runs ferry 3.x (bundle_format/README.md §9): `on` makes
  // this device seal its changes as operations of format 1, which `export
  // --format 3` can carry to that peer, each with a clock naming every device
  // that ever wrote (at most 4,096 of them). Off, the default, seals format 2,
  // whose size does not grow with the fleet. Operations already sealed keep
  // their format; changes captured before the call are sealed before it.
  void set_ferry3_compatible(bool on);
  bool ferry3_compatible();  // As set_ferry3_compatible left it.

 private:
  struct __attribute__((visibility("hidden"))) Impl;  // Not exported from libferry.so.
  explicit Engine(std::unique_ptr<Impl> impl);
  Fingerprint fingerprint_of(const std::optional<std::string>& scope);
  std::vector<ExportSummary> export_parts(const std::string& path, const ExportOptions& options, bool split);
  std::unique_ptr<Impl> impl_;
};

// Where export_bundles writes part k (from 1) of n: "out.ferry" as
// "out-2of3.ferry" ("-2of3" before the last ".ferry", or at the end).
std::string part_path(const std::string& path, std::size_t k, std::size_t n);

// True when `path` starts as a bundle does (plain or encrypted): a quick look at
// the first bytes, to tell bundles from databases; nothing is validated.
bool looks_like_bundle(const std::string& path);
// Reads a bundle's metadata without any database. Throws Error(corrupt) for
// a damaged file and Error(refused) for a newer format.
BundleInfo inspect_bundle(const std::string& path);
// Checks everything that can be checked without a database: format, SQLite
// integrity, schema, every hash and chain link, the content hash.
[[nodiscard]] VerifyReport verify_bundle(const std::string& path);

// This library's version, "MAJOR.MINOR.PATCH" (ferry_version() in SQL and C).
const char* version() noexcept;

}  // namespace ferry
#pragma GCC visibility pop
