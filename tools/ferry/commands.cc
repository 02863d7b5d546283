#include "commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "ferry/engine.h"
#include "progress.h"
#include "render.h"
#include "stdout_file.h"

namespace ferry::cli {

namespace {

Engine announced(Engine e, const std::string& db) {
  if (e.upgraded_from() != 0)
    std::cerr << "ferry: " << printable(db) << ": upgraded in place from local format " << e.upgraded_from()
              << ": every operation, hash and signature is unchanged; older ferry versions can no longer open it\n";
  return e;
}

}  // namespace

Engine open_engine(const std::string& db) { return announced(Engine::open(db), db); }
Engine init_engine(const std::string& db, const std::string& name) { return announced(Engine::init(db, name), db); }

int cmd_init(const std::string& db, const std::string& name, bool as_json) {
  auto e = init_engine(db, name);
  if (as_json) {
    const StatusReport s = e.status();
    print(json{{"database", db},
               {"device", {{"id", e.device_id().to_string()}, {"name", e.device_name()}, {"public_key", s.public_key},
                           {"fingerprint", s.fingerprint}, {"key_file", db + ".key"}}}});
  } else {
    const StatusReport s = e.status();
    std::cout << "ferry is ready in " << db << ": this device is " << e.device_id().to_string()
              << (e.device_name().empty() ? "" : " (" + printable(e.device_name()) + ")") << "\n"
              << "its key fingerprint is " << s.fingerprint << "; its private key is in " << db
              << ".key (keep it private, back it up with the database)\n"
              << "next: ferry track " << db << " TABLE...\n";
  }
  return kOk;
}

int cmd_track(const std::string& db, const std::vector<std::string>& tables, bool untrack, const std::string& scope) {
  auto e = open_engine(db);
  for (const auto& t : tables) {
    if (untrack) {
      e.untrack(t);
      std::cout << "stopped tracking " << t << " (its operations stay in the log)\n";
    } else {
      const std::size_t backfilled = e.track(t, scope);
      std::cout << "tracking " << t << (scope.empty() ? "" : ", each row in the scope " + scope + " gives")
                << (backfilled ? ": " + plural(backfilled, "existing row", "existing rows") + " recorded" : "") << "\n";
    }
  }
  return kOk;
}

namespace {

// "table 'items' key (7): <reason>", for a row held back from sealing.
std::string held_row(const HeldRow& h) {
  std::string key;
  for (const auto& v : h.key) key += (key.empty() ? "" : ", ") + printable(v.to_display());
  return "table '" + printable(h.table) + "' key (" + key + "): " + h.reason;
}

}  // namespace

int cmd_status(const std::string& db, bool as_json) {
  auto e = open_engine(db);
  const StatusReport s = e.status();
  if (as_json) {
    print(render::status(s));
    return kOk;
  }
  std::cout << "device     " << s.device.to_string() << (s.device_name.empty() ? "" : "  " + printable(s.device_name)) << "\n";
  std::cout << "key        " << s.fingerprint << "  (public key: " << s.public_key << ")\n";
  std::cout << "trust      " << (s.strict ? "strict: only devices added with `ferry trust " + db + " add`"
                                          : "on first use: a new device's key is pinned by its first bundle")
            << "\n";
  if (s.ferry3_compatible)
    std::cout << "seals      for ferry 3.x peers (`ferry compat " << db << " 4` once every peer runs ferry 4)\n";
  std::cout << "tables     " << (s.tables.empty() ? "(none tracked: ferry track " + db + " TABLE)" : "");
  for (std::size_t i = 0; i < s.tables.size(); ++i) std::cout << (i ? ", " : "") << s.tables[i];
  std::cout << "\n" << fleet_line(s) << scopes_line(s) << "operations " << s.operations << "\n";
  std::cout << "pending    " << s.pending_operations;
  for (const auto& m : s.missing)
    std::cout << (&m == &s.missing[0] ? "  waiting for " : ", ") << short_id(m.device) << " " << m.first << "-" << m.last;
  std::cout << "\nconflicts  " << s.conflicts_open << (s.conflicts_open ? " open (ferry conflicts " + db + ")" : "") << "\n";
  for (const auto& f : s.forks)
    std::cout << "FORK       device " << f.device.to_string()
              << (f.scope.empty() ? "" : " in scope '" + printable(f.scope) + "'") << " signed two different operations "
              << f.seq << " ("
              << to_hex(f.held_hash).substr(0, 16) << " held here, " << to_hex(f.other_hash).substr(0, 16) << " in "
              << f.bundle << ", " << iso_time(f.detected_ms) << ")\n";
  for (const auto& h : s.held)
    std::cout << "HELD       " << held_row(h) << "; not sent while that holds (since " << iso_time(h.since_ms) << ")\n";
  if (!s.identity_reused.empty())
    std::cout << "STOPPED    another database uses this device's identity (" << s.identity_reused << "); nothing is "
              << "sealed here until `ferry reidentify " << db << "`\n";
  std::cout << "devices\n";
  for (const auto& p : s.peers) {
    std::cout << "  " << device_label(p.id, p.name) << (p.is_self ? "  (this device)" : "") << "  has up to "
              << p.head << "; " << trust_words(p);
    // Only what a peer said and what went to it: nothing of the kind is kept about this device itself.
    if (p.announced && p.announced_ms > 0 && !p.is_self)
      std::cout << "; announced " << p.announced->get(s.device) << " of ours at " << iso_time(p.announced_ms);
    if (p.exported && p.exported_ms > 0 && !p.is_self) std::cout << "; last export to it " << iso_time(p.exported_ms);
    std::cout << "\n";
  }
  return kOk;
}

namespace {

// What export says of a bundle written in parts (--max-size).
int said_parts(const std::vector<ExportSummary>& parts, const ExportArgs& a) {
  if (a.json) {
    json files = json::array();
    for (const auto& p : parts) files.push_back(render::export_summary(p));
    print(json{{"parts", files}});
    return kOk;
  }
  std::size_t operations = 0;
  for (const auto& p : parts) operations += p.operations;
  std::cout << "wrote " << plural(operations, "operation", "operations") << " in " << parts.size()
            << " bundles of at most " << a.max_size << " each; each imports on its own, in any order:\n";
  for (const auto& p : parts)
    std::cout << "  " << p.path << ": " << plural(p.operations, "operation", "operations") << ", " << p.bytes
              << " bytes\n";
  for (const auto& h : parts.front().held)
    std::cerr << "ferry: warning: not sent, held back: " << held_row(h) << "\n";
  return kOk;
}

}  // namespace

int cmd_export(const ExportArgs& a) {
  // -o -: the bundle goes to standard output, so what the tool says goes to stderr.
  const bool to_stdout = a.output == "-";
  if (to_stdout && a.json)
    throw Error(Errc::invalid_argument, "--json and -o - would both write to standard output: drop one");
  std::optional<StdoutFile> piped;
  if (to_stdout) piped.emplace("bundle.ferry");
  std::ostream& say = to_stdout ? std::clog : std::cout;  // std::clog: stderr, which --quiet silences too.
  if (to_stdout && !a.max_size.empty())
    throw Error(Errc::invalid_argument, "-o - writes one bundle; --max-size may need several files: give a file name");
  auto e = open_engine(a.db);
  ExportOptions options;
  if (!a.max_size.empty()) options.max_size = parse_size(a.max_size, "--max-size");
  options.peer = a.peer;
  options.all = a.all;
  options.snapshot = a.snapshot;
  options.format = a.format;
  options.encrypt_for = a.encrypt_for;
  if (!a.since.empty()) options.since = VectorClock::parse(a.since);
  ProgressBar bar("exporting");
  options.progress = bar.callback();
  // With --max-size, the bundle in parts if it is over; one file otherwise, as without.
  const std::vector<ExportSummary> parts = piped ? std::vector<ExportSummary>{e.export_bundle(piped->path(), options)}
                                                 : e.export_bundles(a.output, options);
  bar.clear();
  if (parts.size() > 1) return said_parts(parts, a);
  const ExportSummary& s = parts.front();
  if (piped) piped->send();
  const std::string where = piped ? "to standard output" : s.path;
  if (a.json) {
    print(render::export_summary(s));
  } else if (a.snapshot) {
    say << "wrote snapshot " << where << ": the current state (" << plural(s.operations, "operation", "operations")
        << ") and the chain heads of " << plural(s.ranges.size(), "device", "devices") << ", " << s.bytes << " bytes\n";
  } else if (s.operations == 0) {
    say << "nothing to send: " << (piped ? "the bundle on standard output" : s.path) << " only tells the peer what this device has"
        << (s.receipt ? " and returns the peer's newest operation to it (a receipt)" : "") << " (" << s.bytes
        << " bytes)\n";
  } else {
    say << "wrote " << where << ": " << plural(s.operations, "operation", "operations") << ", " << s.bytes << " bytes\n";
  }
  if (!a.json && s.encrypted_for) say << "encrypted: only device " << s.encrypted_for->to_string() << " can read it\n";
  for (const auto& h : s.held)
    std::cerr << "ferry: warning: not sent, held back: " << held_row(h) << "; make it smaller and export again "
              << "(`ferry status " << a.db << "` lists every held row)\n";
  return kOk;
}

std::string import_line(const ImportSummary& s) {
  return std::to_string(s.applied) + " applied, " + std::to_string(s.duplicates) + " duplicates, " +
         std::to_string(s.pending) + " pending, " + plural(s.conflicts, "conflict", "conflicts");
}

int cmd_import(const std::string& db, const std::vector<std::string>& files, bool as_json) {
  auto e = open_engine(db);
  ImportSummary total;
  json per_file = json::array();
  // Each bundle is imported on its own, in its own transaction: one that is refused
  // (damaged, untrusted, not for this database) is reported and the next one is
  // tried. A database error (disk full, locked) stops the rest, reported as not
  // tried. The exit code is that of the first failure. This is the one verb that
  // handles errors itself, because its result is one outcome per file.
  int exit = kOk;
  bool stopped = false;
  for (const auto& f : files) {
    if (stopped) {
      if (as_json) per_file.push_back({{"file", f}, {"outcome", "not tried"}});
      if (!as_json) std::cerr << "ferry: " << f << ": not tried (stopped at the error above)\n";
      continue;
    }
    ImportSummary s;
    try {
      ProgressBar bar("importing " + f);
      s = e.import_bundle(f, bar.callback());
    } catch (const Error& err) {
      if (exit == kOk) exit = exit_code(err.code());
      stopped = err.code() == Errc::database || err.code() == Errc::internal;
      if (as_json) {
        per_file.push_back({{"file", f}, {"outcome", "refused"}, {"error", to_string(err.code())},
                            {"message", printable(err.what(), std::string::npos)}});
      } else {
        std::cerr << "ferry: " << printable(err.what(), std::string::npos) << "\n";
      }
      continue;
    }
    total.applied += s.applied;
    total.duplicates += s.duplicates;
    total.conflicts += s.conflicts;
    total.pending = s.pending;
    total.missing = s.missing;
    total.foreign_key_violations = s.foreign_key_violations;
    if (as_json) {
      json entry = render::import_summary(s);
      entry["file"] = f;
      entry["outcome"] = "imported";
      per_file.push_back(entry);
    } else {
      std::cout << f << ": " << import_line(s) << "\n";
      for (const auto& why : s.discarded) std::cerr << "ferry: " << f << ": " << printable(why, std::string::npos) << "\n";
      for (const auto& r : s.removed_scopes) std::cout << removed_scope_line(r) << "\n";
      for (const auto& p : s.newly_trusted)
        std::cout << "trusting new device " << device_label(p.id, p.name) << " on first use, key fingerprint "
                  << p.fingerprint << ": compare it with `ferry status` on that device; if it differs, run `ferry trust "
                  << db << " remove " << p.id.to_string() << "`\n";
    }
  }
  if (as_json) {
    print(json{{"applied", total.applied}, {"duplicates", total.duplicates}, {"pending", total.pending},
               {"conflicts", total.conflicts}, {"missing", to_json(total.missing)},
               {"foreign_key_violations", total.foreign_key_violations}, {"files", per_file}});
    return exit;
  }
  auto names = total.missing.empty() ? std::map<DeviceId, std::string>() : device_names(e);
  for (const auto& m : total.missing)
    std::cout << "waiting for operations " << m.first << "-" << m.last << " of device " << device_label(m.device, names[m.device])
              << ": import the bundle that holds them and the pending ones apply by themselves\n";
  if (total.conflicts) std::cout << "see them with: ferry conflicts " << db << "\n";
  if (total.foreign_key_violations)
    std::cout << total.foreign_key_violations << " rows now refer to rows that are missing here (foreign keys are not "
              << "enforced while merging); `sqlite3 " << db << " \"PRAGMA foreign_key_check\"` lists them\n";
  return exit;
}

int cmd_inspect(const std::string& file, bool as_json) {
  const BundleInfo b = inspect_bundle(file);
  if (b.encrypted_for) {
    if (as_json) {
      print(json{{"encrypted_for", b.encrypted_for->to_string()}, {"bytes", b.bytes}});
    } else {
      std::cout << "encrypted bundle for device " << b.encrypted_for->to_string() << ", " << b.bytes
                << " bytes: only that device can read or import it\n";
    }
    return kOk;
  }
  json ranges = json::array();
  for (std::size_t i = 0; i < b.ranges.size(); ++i) {
    json r = to_json(b.ranges[i]);
    r["prerequisite_hash"] = to_hex(b.prerequisites[i]);
    ranges.push_back(r);
  }
  if (as_json) {
    json tables = json::array();
    for (const auto& t : b.tables)
      tables.push_back({{"name", t.name}, {"columns", t.columns}, {"key", t.key}, {"scope", t.scope}});
    json chains = json::array();
    for (const auto& c : b.scoped_chains)
      chains.push_back({{"chain", c.chain.to_string()}, {"device", c.device.to_string()}, {"scope", c.scope}});
    print(json{{"format_version", std::to_string(b.format_major) + "." + std::to_string(b.format_minor)},
               {"kind", b.snapshot ? "snapshot" : "delta"},
               {"bundle_id", b.bundle_id.to_string()},
               {"exporter", {{"id", b.exporter.to_string()}, {"name", b.exporter_name},
                             {"fingerprint", b.exporter_fingerprint}}},
               {"created", iso_time(b.created_ms)}, {"clock", to_json(b.clock)}, {"ranges", ranges},
               {"operations", b.operations}, {"bytes", b.bytes}, {"tables", tables},
               {"content_hash", to_hex(b.content_hash)},
               {"addressee", b.addressee ? json(b.addressee->to_string()) : json(nullptr)},
               {"reference", b.reference ? json(b.reference->to_string()) : json(nullptr)},
               {"clock_dropped", ids(b.clock_dropped)}, {"scoped_chains", chains}});
    return kOk;
  }
  std::cout << (b.snapshot ? "snapshot   " : "bundle     ") << b.bundle_id.to_string() << " (format " << b.format_major
            << "." << b.format_minor << ")\n"
            << "from       " << device_label(b.exporter, b.exporter_name) << " at " << iso_time(b.created_ms) << "\n"
            << "signed by  key " << b.exporter_fingerprint << "\n"
            << "operations " << b.operations << " in " << b.bytes << " bytes\n";
  for (std::size_t i = 0; i < b.ranges.size(); ++i)
    std::cout << "  device " << chain_text(b, b.ranges[i].device) << ": "
              << (b.snapshot ? "chain head " + std::to_string(b.ranges[i].last)
                             : std::to_string(b.ranges[i].first) + "-" + std::to_string(b.ranges[i].last) +
                                   (b.ranges[i].first > 1 ? " (needs " + std::to_string(b.ranges[i].first - 1) + " first)" : ""))
              << "\n";
  if (b.addressee) std::cout << "for        device " << b.addressee->to_string() << "\n";
  if (!b.reference) {
    std::cout << "exporter has " << b.clock.to_string() << "\n";
    return kOk;
  }
  std::string dropped;
  for (const auto& id : ids(b.clock_dropped)) dropped += (dropped.empty() ? " and nothing of " : ", ") + id;
  std::cout << "exporter has what bundle " << b.reference->to_string() << " said, but " << b.clock.to_string()
            << dropped << "\n";
  return kOk;
}

int cmd_verify(const std::string& target, bool as_json) {
  const bool bundle = looks_like_bundle(target);  // Refuses a FIFO or a device without reading it.
  if (!bundle) {
    // Only a ferry database is verified as one: anything else is damage, never a database to prepare.
    std::ifstream in(target, std::ios::binary);
    char head[16] = {};
    in.read(head, sizeof head);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n < sizeof head || std::string(head, sizeof head) != std::string("SQLite format 3\0", 16))
      throw Error(Errc::corrupt, target + ": is neither a ferry bundle nor a database (" +
                                     (n == 0 ? std::string("it is empty") : "it begins with " + printable(std::string(head, std::min<std::size_t>(n, 8)))) +
                                     "): a bundle cut short or damaged on the way? Copy it again.");
  }
  const VerifyReport r = bundle ? verify_bundle(target) : open_engine(target).verify();
  if (as_json) {
    print(render::verify(r, bundle ? "bundle" : "database"));
  } else if (r.ok) {
    std::cout << target << ": ok, " << plural(r.operations, "operation", "operations") << " from "
              << plural(r.devices, "device", "devices") << " verified\n";
  } else {
    std::cerr << "ferry: " << target << " does not verify: " << r.first_failure << "\n";
  }
  return r.ok ? kOk : kCorrupt;
}

int cmd_conflicts(const std::string& db, bool as_json) {
  auto e = open_engine(db);
  const auto list = e.conflicts();
  if (as_json) {
    print(render::conflicts(list));
    return kOk;
  }
  if (list.empty()) std::cout << "no open conflicts\n";
  auto names = device_names(e);
  auto shown = [&](const std::optional<Value>& v, const Operation& op) {
    return (v ? printable(v->to_display()) : std::string("(row deleted)")) + "  by " + device_label(op.origin, names[op.origin]) +
           ", operation " + std::to_string(op.seq) + " at " + iso_time(op.id.unix_ms());
  };
  for (const auto& c : list) {
    if (c.kind == "constraint") {
      std::cout << "#" << c.id << " " << c.table << " [" << key_text(c.key) << "] " << c.detail << ": the row written by "
                << device_label(c.winner.origin, names[c.winner.origin]) << ", operation " << c.winner.seq
                << ", was not applied here (ferry resolve " << db << " " << c.id << " --keep winner acknowledges it)\n";
      continue;
    }
    if (c.kind == "scope") {  // format4.md §12.2: the row lives in two scopes; the table shows the first.
      std::cout << "#" << c.id << " " << c.table << " [" << key_text(c.key) << "] row lives in scopes '"
                << printable(c.winner.scope) << "' (shown) and '" << printable(c.loser.scope) << "'\n";
      continue;
    }
    std::cout << "#" << c.id << " " << c.table << " [" << key_text(c.key) << "] "
              << (c.column.empty() ? "row inserted against deleted" : "column " + c.column) << "\n"
              << "   kept:     " << shown(c.winner_value, c.winner) << "\n"
              << "   set aside: " << shown(c.loser_value, c.loser) << "\n";
  }
  if (!list.empty())
    std::cout << "settle one with: ferry resolve " << db << " ID --keep winner|loser  (or --value V)\n";
  return kOk;
}

int cmd_resolve(const ResolveArgs& a) {
  auto e = open_engine(a.db);
  Operation op;
  if (a.value) op = e.resolve(a.id, Value::parse(*a.value));
  else if (a.keep == "winner" || a.keep == "loser") op = e.resolve(a.id, a.keep == "winner" ? Keep::winner : Keep::loser);
  else throw Error(Errc::invalid_argument, "say what to keep: --keep winner, --keep loser, or --value V");
  if (a.json) print(json{{"resolved", a.id}, {"operation", to_json(op)}});
  else std::cout << "conflict #" << a.id << " settled by operation " << op.seq << "; it reaches the other devices with the next export\n";
  return kOk;
}


int cmd_peers(const std::string& db, bool as_json) {
  auto e = open_engine(db);
  const auto peers = e.peers();
  if (as_json) {
    json out = json::array();
    for (const auto& p : peers) out.push_back(render::peer(p));
    print(out);
    return kOk;
  }
  for (const auto& p : peers)
    std::cout << p.id.to_string() << "  " << (p.name.empty() ? "-" : printable(p.name)) << (p.is_self ? "  (this device)" : "")
              << "  operations 1-" << p.head << (p.announced_ms ? "  last heard " + iso_time(p.announced_ms) : "") << "  "
              << trust_words(p) << (p.grant ? "; " + grant_words(*p.grant) : "") << "\n";
  return kOk;
}

}  // namespace ferry::cli
