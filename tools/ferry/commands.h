#pragma once
// The verbs of the ferry tool. Each takes plain options (parsed in main.cc),
// prints its result for people or, with json, for scripts, and returns the
// exit code. Errors are thrown as ferry::Error and handled once, in main.cc.

#include <optional>
#include <string>
#include <vector>

#include "ferry/engine.h"
#include "ferry/error.h"

namespace ferry::cli {

// Exit codes (README, "Exit codes").
enum Exit : int {
  kOk = 0, kInternal = 1, kUsage = 2, kCorrupt = 3, kRefused = 4, kDatabase = 5, kUntrusted = 6,
  kDiffer = 7,  // diff, network: compared, and not in sync.
};

// The exit code of an error of this kind (main.cc).
int exit_code(Errc code);
// Engine::open and Engine::init, saying on stderr when the database was
// upgraded in place from an older local format (bundle_format/format4.md §8).
Engine open_engine(const std::string& db);
Engine init_engine(const std::string& db, const std::string& name);

int cmd_init(const std::string& db, const std::string& name, bool json);
int cmd_track(const std::string& db, const std::vector<std::string>& tables, bool untrack, const std::string& scope);
int cmd_status(const std::string& db, bool json);

struct ExportArgs {
  std::string db, peer, output, since, encrypt_for, max_size;
  bool all = false, snapshot = false, json = false;
  unsigned format = 0;
};
int cmd_export(const ExportArgs& a);
int cmd_import(const std::string& db, const std::vector<std::string>& files, bool json);
// One import's result line: "3 applied, 0 duplicates, 0 pending, 1 conflict".
std::string import_line(const ImportSummary& s);

// The carrier's folder (sync_command.cc).
struct SyncArgs {
  std::string db, folder, max_size;
  bool json = false;
};
int cmd_sync(const SyncArgs& a);
// "20M" -> 20971520 (K, M, G: powers of 1024; a B or iB after them is allowed).
// Throws Error(invalid_argument) naming `option` for anything else, and for 0.
std::uint64_t parse_size(const std::string& text, const std::string& option);
int cmd_inspect(const std::string& file, bool json);
int cmd_verify(const std::string& target, bool json);
int cmd_conflicts(const std::string& db, bool json);

struct ResolveArgs {
  std::string db;
  std::int64_t id = 0;
  std::string keep;                  // "winner" or "loser"
  std::optional<std::string> value;  // Or a value literal.
  bool json = false;
};
int cmd_resolve(const ResolveArgs& a);

struct LogArgs {
  std::string db, table, device;
  std::vector<std::string> key;
  std::size_t limit = 0;
  bool json = false;
};
int cmd_log(const LogArgs& a);
int cmd_peers(const std::string& db, bool json);

// Comparing devices (compare_commands.cc).
int cmd_fingerprint(const std::string& db, const std::string& out, bool json, const std::optional<std::string>& scope);
int cmd_diff(const std::string& first, const std::string& second, bool json, std::optional<std::string> scope);
int cmd_network(const std::vector<std::string>& paths, bool json);
int cmd_prove(const std::string& db, const std::string& operation, const std::string& out, bool json);
int cmd_check_proof(const std::string& root, const std::string& proof, bool json);

// History (history_commands.cc).
struct HistoryArgs {
  std::string db, table, at, output;
  std::vector<std::string> key;
  bool json = false;
};
int cmd_history(const HistoryArgs& a);
int cmd_as_of(const HistoryArgs& a);

struct TrustArgs {
  std::string db, action;          // list, add, remove, policy
  std::vector<std::string> args;   // add: DEVICE KEY; remove: DEVICE; policy: strict|tofu
  std::string name;                // add --name
  bool forget = false;             // add --forget: the operations admitted under a key replaced are not the device's
  bool json = false;
};
int cmd_trust(const TrustArgs& a);
struct FleetArgs {
  std::string db, action;          // init, join, grant, revoke, admit, list
  std::vector<std::string> args;   // join: ADMIN KEY; grant, revoke: DEVICE
  bool write_shared = false;       // grant: may change the shared tables
  std::vector<std::string> read, write, relay;  // grant: scopes (each --read/--write/--relay once per scope)
  std::string name;                // join --name
  bool json = false;
};
int cmd_fleet(const FleetArgs& a);
std::string fleet_line(const StatusReport& s);  // "fleet      administrator ...\n" for status; empty in no fleet.
std::string grant_words(const GrantInfo& g);    // "writes shared tables (the administrator's operation 3)".
std::string scopes_line(const StatusReport& s);  // "scopes     '7' 12 operations; ...\n" for status; empty without.
// What an import says of a scope it removed, or kept for this device's unsent operations.
std::string removed_scope_line(const ScopeRemoved& r);
int cmd_reidentify(const std::string& db, bool json);
int cmd_compat(const std::string& db, const std::string& version);

}  // namespace ferry::cli
