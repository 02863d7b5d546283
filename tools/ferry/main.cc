// The ferry command-line tool: parses the command line (CLI11, only here),
// runs one verb (commands.cc), and is the one place that handles errors,
// turning each kind into a documented exit code and a short message.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "guide.h"
#include "progress.h"
#include "ferry/engine.h"
#include "ferry/error.h"

namespace ferry::cli {

int exit_code(ferry::Errc code) {
  switch (code) {
    case ferry::Errc::invalid_argument:
    case ferry::Errc::not_found: return kUsage;
    case ferry::Errc::corrupt: return kCorrupt;
    case ferry::Errc::refused: return kRefused;
    case ferry::Errc::untrusted: return kUntrusted;
    case ferry::Errc::database: return kDatabase;
    case ferry::Errc::internal: return kInternal;
  }
  return kInternal;
}

}  // namespace ferry::cli

using namespace ferry::cli;

int main(int argc, char** argv) {
  // Named here, so that usage lines say "ferry" whatever path started it.
  CLI::App app{"ferry: offline sync for SQLite databases through bundle files (USB stick, email).", "ferry"};
  app.require_subcommand(1);
  // --quiet, before or after the verb: no progress bar and no result lines for
  // people (a --json result is still printed); warnings and errors still go to stderr.
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "Print only warnings and errors (and the result asked for with --json)");
  app.fallthrough();
  app.set_version_flag("--version", std::string("ferry ") + ferry::version() +
                                        " (writes bundle format 4, or 3.0 with --format 3; reads 4.x, 3.0 and 2.0)");
  std::function<int()> run;
  bool json = false;
  std::string db, name, file, scope_expr;
  std::vector<std::string> names, files;

  auto* init = app.add_subcommand("init", "Prepare a database for ferry and give it a device identity");
  init->add_option("DB", db, "The application's SQLite database (created if missing)")->required();
  init->add_option("--name", name, "A name people will recognise this device by, e.g. clinic-laptop");
  init->add_flag("--json", json, "Print JSON");
  init->callback([&] { run = [&] { return cmd_init(db, name, json); }; });

  for (const bool untrack : {false, true}) {
    auto* sub = app.add_subcommand(untrack ? "untrack" : "track",
                                   untrack ? "Stop capturing changes to tables" : "Capture every change to tables");
    sub->add_option("DB", db, "Database prepared with ferry init")->required();
    sub->add_option("TABLE", names, "Tables (each needs a declared PRIMARY KEY)")->required();
    if (!untrack)
      sub->add_option("--scope", scope_expr,
                      "Scoped sync: the SQL expression over a row's columns (a column name, usually) naming the "
                      "scope the row belongs to; every device tracks the table with the same one");
    sub->callback([&, untrack] { run = [&, untrack] { return cmd_track(db, names, untrack, scope_expr); }; });
  }

  auto* status = app.add_subcommand("status", "This device, its clock, tables, pending operations, conflicts, peers");
  status->add_option("DB", db, "Database")->required();
  status->add_flag("--json", json, "Print JSON");
  status->callback([&] { run = [&] { return cmd_status(db, json); }; });

  ExportArgs ex;
  auto* exp = app.add_subcommand("export", "Write a bundle with the operations a peer lacks");
  exp->add_option("DB", ex.db, "Database")->required();
  auto* peer = exp->add_option("--peer", ex.peer, "The device the bundle is for: its id, id prefix or name");
  auto* all = exp->add_flag("--all", ex.all, "Everything this device holds (for a new device)");
  auto* since = exp->add_option("--since", ex.since, "Only what is newer than this clock: DEVICE:SEQ,...");
  auto* snapshot = exp->add_flag("--snapshot", ex.snapshot,
                                 "The current state and chain heads, to start a new device without the history");
  snapshot->excludes(since);
  snapshot->excludes(all);
  exp->add_option("--encrypt-for", ex.encrypt_for,
                  "Encrypt the bundle so that only this device (id, prefix or name) can read it");
  exp->add_option("--format", ex.format, "Bundle format to write: 4 (the default), or 3 for peers still running ferry 3.x")
      ->check(CLI::IsMember({3, 4}));
  exp->add_option("-o,--output", ex.output, "The bundle file to write")->required();
  exp->add_option("--max-size", ex.max_size,
                  "Files of at most this size (20M, 700K, 2G; K = 1024 bytes): over it, several bundles, OUTPUT "
                  "named -1of3, -2of3, ..., each importable on its own and in any order");
  exp->add_flag("--json", ex.json, "Print JSON");
  all->excludes(since);
  exp->callback([&] {
    if (peer->count() == 0 && !ex.all && since->count() == 0 && !ex.snapshot)
      throw CLI::ValidationError("export", "say who the bundle is for (--peer PEER), or use --all or --snapshot");
    run = [&] { return cmd_export(ex); };
  });

  auto* imp = app.add_subcommand("import", "Validate and apply bundles, in the order given");
  imp->add_option("DB", db, "Database")->required();
  imp->add_option("FILE", files, "Bundle files")->required();
  imp->add_flag("--json", json, "Print JSON");
  imp->callback([&] { run = [&] { return cmd_import(db, files, json); }; });

  SyncArgs sy;
  auto* sync = app.add_subcommand(
      "sync", "Import every new bundle in a folder (a USB stick, a mail folder) and leave there what each peer lacks");
  sync->add_option("DB", sy.db, "Database")->required();
  sync->add_option("FOLDER", sy.folder, "The folder the devices share")->required();
  sync->add_option("--max-size", sy.max_size,
                   "Files of at most this size (20M for mail; K = 1024 bytes); the default is FAT32's largest file, 4 GiB less a byte");
  sync->add_flag("--json", sy.json, "Print JSON");
  sync->callback([&] { run = [&] { return cmd_sync(sy); }; });

  auto* inspect = app.add_subcommand("inspect", "Show a bundle's metadata (no database needed)");
  inspect->add_option("FILE", file, "Bundle file")->required();
  inspect->add_flag("--json", json, "Print JSON");
  inspect->callback([&] { run = [&] { return cmd_inspect(file, json); }; });

  auto* verify = app.add_subcommand("verify", "Check every hash and chain of a database's log or of a bundle");
  verify->add_option("DB_OR_FILE", file, "Database or bundle file")->required();
  verify->add_flag("--json", json, "Print JSON");
  verify->callback([&] { run = [&] { return cmd_verify(file, json); }; });

  auto* conflicts = app.add_subcommand("conflicts", "List open conflicts");
  conflicts->add_option("DB", db, "Database")->required();
  conflicts->add_flag("--json", json, "Print JSON");
  conflicts->callback([&] { run = [&] { return cmd_conflicts(db, json); }; });

  ResolveArgs rs;
  std::string value;
  auto* resolve = app.add_subcommand("resolve", "Settle a conflict; the resolution travels to the other devices");
  resolve->add_option("DB", rs.db, "Database")->required();
  resolve->add_option("ID", rs.id, "Conflict number from ferry conflicts")->required();
  auto* keep = resolve->add_option("--keep", rs.keep, "Which side to keep")->check(CLI::IsMember({"winner", "loser"}));
  auto* val = resolve->add_option("--value", value, "A value instead: NULL, 42, 1.5, 'text', x'00ff'");
  keep->excludes(val);
  resolve->add_flag("--json", rs.json, "Print JSON");
  resolve->callback([&] {
    if (keep->count() == 0 && val->count() == 0)
      throw CLI::ValidationError("resolve", "say what to keep: --keep winner, --keep loser, or --value V");
    if (val->count()) rs.value = value;
    run = [&] { return cmd_resolve(rs); };
  });

  LogArgs lg;
  auto* log = app.add_subcommand("log", "The operations, newest first: who changed what, when");
  log->add_option("DB", lg.db, "Database")->required();
  log->add_option("--table", lg.table, "Only this table");
  log->add_option("--key", lg.key, "Only this primary key (repeat for each column of a composite key)");
  log->add_option("--device", lg.device, "Only operations made on this device (id, prefix or name)");
  log->add_option("--limit", lg.limit, "At most this many");
  log->add_flag("--json", lg.json, "Print JSON");
  log->callback([&] { run = [&] { return cmd_log(lg); }; });

  auto* peers = app.add_subcommand("peers", "The devices this database knows");
  peers->add_option("DB", db, "Database")->required();
  peers->add_flag("--json", json, "Print JSON");
  peers->callback([&] { run = [&] { return cmd_peers(db, json); }; });

  std::string out;
  auto* fingerprint = app.add_subcommand(
      "fingerprint", "A Merkle root over the operations held and a digest of the tables: compare it with another device's");
  fingerprint->add_option("DB", db, "Database")->required();
  fingerprint->add_option("-o,--out", out, "Also write it to this fingerprint file, for `ferry diff` elsewhere");
  std::string scope_name;
  auto* fp_scope = fingerprint->add_option(
      "--scope", scope_name, "Only the shared tables and this scope: equal on every device that holds the same of them");
  fingerprint->add_flag("--json", json, "Print JSON");
  fingerprint->callback([&, fp_scope] {
    run = [&, fp_scope] { return cmd_fingerprint(db, out, json, fp_scope->count() ? std::optional(scope_name) : std::nullopt); };
  });

  auto* diff = app.add_subcommand("diff", "What two databases, bundles or fingerprint files hold that the other lacks");
  diff->add_option("DB", db, "Database, bundle or fingerprint file")->required();
  diff->add_option("OTHER", file, "Another database, a bundle or a fingerprint file (ferry fingerprint --out)")->required();
  auto* diff_scope = diff->add_option(
      "--scope", scope_name, "Compare only the shared tables and this scope (a scope's fingerprint file says its own)");
  diff->add_flag("--json", json, "Print JSON");
  diff->callback([&, diff_scope] {
    run = [&, diff_scope] { return cmd_diff(db, file, json, diff_scope->count() ? std::optional(scope_name) : std::nullopt); };
  });

  auto* network = app.add_subcommand("network", "Group databases and fingerprint files by what they hold: who is behind");
  network->add_option("DB_OR_FINGERPRINT", files, "Databases or fingerprint files")->required();
  network->add_flag("--json", json, "Print JSON");
  network->callback([&] { run = [&] { return cmd_network(files, json); }; });

  std::string operation;
  auto* prove = app.add_subcommand("prove", "Prove that an operation is among those a fingerprint's root covers");
  prove->add_option("DB", db, "Database")->required();
  prove->add_option("OP_ID", operation, "The operation's id (ferry log --json)")->required();
  prove->add_option("-o,--out", out, "Also write the proof to this file");
  prove->add_flag("--json", json, "Print JSON");
  prove->callback([&] { run = [&] { return cmd_prove(db, operation, out, json); }; });

  std::string root;
  auto* check = app.add_subcommand("check-proof", "Check a proof from ferry prove against a root, without any database");
  check->add_option("ROOT", root, "The operations root (64 hex digits, or at least the first 20)")->required();
  check->add_option("PROOF", file, "The proof (ferry-proof-1:...) or a file holding it")->required();
  check->add_flag("--json", json, "Print JSON");
  check->callback([&] { run = [&] { return cmd_check_proof(root, file, json); }; });

  HistoryArgs hs;
  auto* history = app.add_subcommand("history", "Every version of a row: values, device, time, conflicts");
  history->add_option("DB", hs.db, "Database")->required();
  history->add_option("TABLE", hs.table, "Tracked table")->required();
  history->add_option("KEY", hs.key, "Primary-key values, in key order: 42, 'text', x'00ff'")->required();
  history->add_option("--at", hs.at, "Only the row as it was then: a time (2026-12-01T10:00:00Z) or a clock (DEVICE:SEQ,...)");
  history->add_flag("--json", hs.json, "Print JSON");
  history->callback([&] { run = [&] { return cmd_history(hs); }; });

  auto* as_of = app.add_subcommand("as-of", "Copy a table as it was at a past point into a new SQLite file");
  as_of->add_option("DB", hs.db, "Database")->required();
  as_of->add_option("TABLE", hs.table, "Tracked table")->required();
  as_of->add_option("--at", hs.at, "A time (2026-12-01T10:00:00Z) or a clock (DEVICE:SEQ,...)")->required();
  as_of->add_option("-o,--output", hs.output, "The new SQLite file to write")->required();
  as_of->add_flag("--json", hs.json, "Print JSON");
  as_of->callback([&] { run = [&] { return cmd_as_of(hs); }; });

  TrustArgs tr;
  auto* trust = app.add_subcommand("trust", "Which devices' operations this database accepts, and with which keys");
  trust->add_option("DB", tr.db, "Database")->required();
  trust->add_option("ACTION", tr.action, "list | add DEVICE KEY | remove DEVICE | policy strict|tofu")
      ->required()
      ->check(CLI::IsMember({"list", "add", "remove", "policy"}));
  trust->add_option("ARGS", tr.args, "What the action needs");
  trust->add_option("--name", tr.name, "add: a name for the device");
  trust->add_flag("--forget", tr.forget,
                  "add: the key replaces one under which this database admitted operations of the device; they were "
                  "not the device's: remove them, and rebuild the rows they wrote from the other devices' operations");
  trust->add_flag("--json", tr.json, "Print JSON (list, add)");
  trust->callback([&] { run = [&] { return cmd_trust(tr); }; });

  FleetArgs fl;
  auto* fleet = app.add_subcommand("fleet", "The fleet's administrator, and which devices may change what");
  fleet->add_option("DB", fl.db, "Database")->required();
  fleet->add_option("ACTION", fl.action,
                    "init | invite | join ADMIN_DEVICE KEY | grant DEVICE | revoke DEVICE | admit DEVICE:SEQ,... | list")
      ->required()
      ->check(CLI::IsMember({"init", "invite", "join", "grant", "revoke", "admit", "list"}));
  fleet->add_option("ARGS", fl.args, "What the action needs");
  fleet->add_flag("--write-shared", fl.write_shared, "grant: may change the shared tables (without it: nothing)");
  fleet->add_option("--read", fl.read, "grant: may read this scope (repeat per scope; '*': every scope)");
  fleet->add_option("--write", fl.write, "grant: may change rows of this scope, and read it (repeat per scope; '*': every scope)");
  fleet->add_option("--relay", fl.relay, "grant: carries this scope's chains to others without reading them (repeat per scope)");
  fleet->add_option("--name", fl.name, "join: a name for the administrator");
  fleet->add_flag("--json", fl.json, "Print JSON");
  fleet->callback([&] { run = [&] { return cmd_fleet(fl); }; });

  auto* reidentify = app.add_subcommand(
      "reidentify", "Give this database a new device identity (after a restore from backup or a copy: status says when)");
  reidentify->add_option("DB", db, "Database")->required();
  reidentify->add_flag("--json", json, "Print JSON");
  reidentify->callback([&] { run = [&] { return cmd_reidentify(db, json); }; });

  std::string compat_version;
  auto* compat = app.add_subcommand(
      "compat", "Whether this device's changes can reach peers still running ferry 3.x (3), or not (4, the default)");
  compat->add_option("DB", db, "Database")->required();
  compat->add_option("VERSION", compat_version, "3: seal what ferry 3.x reads; 4: seal format 2 (omit to show)")
      ->check(CLI::IsMember({"3", "4"}));
  compat->callback([&] { run = [&] { return cmd_compat(db, compat_version); }; });

  if (const auto code = guide(app, argc, argv)) return *code;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }
  if (quiet) {
    ProgressBar::quiet();
    const auto verbs = app.get_subcommands();
    if (verbs.empty() || verbs.front()->get_option_no_throw("--json") == nullptr || verbs.front()->count("--json") == 0)
      std::cout.rdbuf(nullptr);  // Every write to it is dropped.
    std::clog.rdbuf(nullptr);    // Where a verb says what it did when stdout carries data (-o -).
  }
  try {
    return run();
  } catch (const ferry::Error& e) {
    // Escaped whole: a message may quote a name a stranger chose or SQLite's words on a hostile file.
    std::cerr << "ferry: " << ferry::printable(e.what(), std::string::npos) << "\n";
    return exit_code(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << "ferry: out of memory\n";
    return kInternal;
  } catch (const std::exception& e) {
    std::cerr << "ferry: internal error (please report it): " << ferry::printable(e.what(), std::string::npos) << "\n";
    return kInternal;
  }
}
