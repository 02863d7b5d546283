// The loadable SQLite extension: ferry's verbs as SQL functions on the
// connection that loads it (sqlite3_load_extension, `.load` in the shell,
// Python's Connection.load_extension, better-sqlite3's loadExtension).
//
//   SELECT ferry_init(['name'])                -> this device's id
//   SELECT ferry_track('table' [, 'scope expression'])  -> rows recorded the first time
//   SELECT ferry_untrack('table')
//   SELECT ferry_export(peer, 'file' [, encrypt_for [, format]])  -> summary (JSON); peer NULL: everything;
//                                              format 3 for a peer still on ferry 3.x
//   SELECT ferry_compat([3|4])                 -> 3 or 4: which ferry reads what this device seals
//   SELECT ferry_import('file')                -> summary (JSON)
//   SELECT ferry_status()                      -> JSON
//   SELECT ferry_conflicts()                   -> JSON array
//   SELECT ferry_resolve(id, 'winner'|'loser') -> the resolving operation (JSON)
//   SELECT ferry_resolve_value(id, value)      -> the same, keeping `value` (any SQL value)
//   SELECT ferry_verify()                      -> JSON
//   SELECT ferry_fingerprint(['scope'])        -> JSON: operations root, data digest, chain heads (of one scope)
//   SELECT ferry_reidentify()                  -> JSON: a new device identity (after a restore or a copy)
//   SELECT ferry_sync('folder' [, max_size])   -> JSON: what it did with each file (ferry/sync.h); a file
//                                              refused is named there ("error"), the rest still done
//   SELECT ferry_export_blob(peer [, encrypt_for [, format]]) -> the bundle as a BLOB;
//   SELECT ferry_import_blob(blob)             -> summary
//   SELECT ferry_trust_list()                  -> JSON: the devices whose keys are known
//   SELECT ferry_trust_add(device, key [, name [, forget]]) -> JSON (Engine::trust_add)
//   SELECT ferry_trust_remove(device);  ferry_trust_policy(['strict'|'tofu']) -> the policy
//   SELECT ferry_peers()                       -> JSON: every device known, with what it announced
//   SELECT ferry_fleet()                       -> JSON: the administrator and every grant (fleet_functions.cc:
//          ferry_fleet_init(), _join(admin, key [, name]), _grant(device, write_shared | '{"read": [...], ...}'),
//          _revoke(device), _admit(history))
//   SELECT ferry_log([limit])                  -> JSON: operations held, newest first
//   SELECT ferry_history(table, key...)        -> JSON: every version of one row
//   SELECT ferry_as_of(table, when, file)      -> JSON: the table as it was, written to `file`
//   SELECT ferry_version()                     -> '0.3.0'
//
// ferry runs on the host's SQLite, the one that loaded it (sql/sqlite.h): the
// library links none of its own. Each function works on the connection it is
// called on, in a transaction of its own or, inside the caller's, in a
// SAVEPOINT that commits or rolls back with it -- except ferry_init,
// ferry_export, ferry_sync and ferry_reidentify, whose commits must be durable before
// they go on: they use a connection of ferry's own and are refused at once
// inside a transaction ("commit first").
// Errors are SQL errors carrying ferry's message, with a result code by kind:
// SQLITE_CORRUPT (damaged), SQLITE_AUTH (untrusted), SQLITE_CONSTRAINT
// (refused), SQLITE_MISMATCH (a bad argument), SQLITE_NOTFOUND (no such file,
// table, device or conflict), SQLITE_ERROR (SQLite failed), SQLITE_INTERNAL.
#include "extension/calls.h"
#include "ferry/sync.h"
SQLITE_EXTENSION_INIT1  // The host's SQLite, set by the entry point: the only one this library calls.

#include <string_view>
#include <vector>

namespace {

using namespace ferry::extension;

void fn_init(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    const std::string name = argc > 0 && sqlite3_value_type(argv[0]) != SQLITE_NULL ? text_arg(argv[0], "the name") : "";
    const std::string id = ferry::Engine::init(own_connection_file(ctx, "ferry_init"), name).device_id().to_string();
    sqlite3_result_text(ctx, id.c_str(), -1, SQLITE_TRANSIENT);
  });
}

void fn_track(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    const std::string table = text_arg(argv[0], "the table");
    const auto n = argc > 1 ? on_caller(ctx).track(table, text_arg(argv[1], "the scope expression"))
                            : on_caller(ctx).track(table);
    sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(n));
  });
}

void fn_untrack(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    on_caller(ctx).untrack(text_arg(argv[0], "the table"));
    sqlite3_result_null(ctx);
  });
}

// What to export: `peer` (NULL: everything), the device to encrypt for, if
// any, and the bundle format (NULL: the newest; 3 for a peer on ferry 3.x).
ferry::ExportOptions export_options(sqlite3_value* peer, sqlite3_value* encrypt_for, sqlite3_value* format) {
  ferry::ExportOptions options;
  if (sqlite3_value_type(peer) == SQLITE_NULL) options.all = true;
  else options.peer = text_arg(peer, "the peer");
  if (encrypt_for != nullptr && sqlite3_value_type(encrypt_for) != SQLITE_NULL)
    options.encrypt_for = text_arg(encrypt_for, "encrypt_for");
  if (format != nullptr && sqlite3_value_type(format) != SQLITE_NULL) {
    const std::int64_t major = sqlite3_value_int64(format);  // The export names a major it cannot write.
    if (sqlite3_value_type(format) != SQLITE_INTEGER || major < 1 || major > 99)
      throw ferry::Error(ferry::Errc::invalid_argument, "the bundle format is an integer: 4 (the newest) or 3 (for a "
                                                        "peer on ferry 3.x)");
    options.format = static_cast<unsigned>(major);
  }
  return options;
}

void fn_export(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    const ferry::ExportOptions options =
        export_options(argv[0], argc > 2 ? argv[2] : nullptr, argc > 3 ? argv[3] : nullptr);
    auto engine = ferry::Engine::open(own_connection_file(ctx, "ferry_export"));
    result_json(ctx, ferry::render::export_summary(engine.export_bundle(text_arg(argv[1], "the bundle path"), options)));
  });
}

void fn_sync(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    ferry::SyncOptions options;
    if (argc > 1 && sqlite3_value_type(argv[1]) != SQLITE_NULL) {
      if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER || sqlite3_value_int64(argv[1]) <= 0)
        throw ferry::Error(ferry::Errc::invalid_argument, "ferry_sync's max_size is a number of bytes, above 0");
      options.max_size = static_cast<std::uint64_t>(sqlite3_value_int64(argv[1]));
    }
    const std::string folder = text_arg(argv[0], "the folder");
    auto engine = ferry::Engine::open(own_connection_file(ctx, "ferry_sync"));
    const ferry::SyncReport r = ferry::sync_folder(engine, folder, options);
    // A file refused is the report's to name; a run stopped (disk full, I/O) is this call's failure.
    if (r.stopped()) throw ferry::Error(*r.first_error, r.first_refusal()->detail);
    result_json(ctx, ferry::render::sync_report(r));
  });
}

void fn_export_blob(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    const ferry::ExportOptions options =
        export_options(argv[0], argc > 1 ? argv[1] : nullptr, argc > 2 ? argv[2] : nullptr);
    const std::string bundle =
        ferry::Engine::open(own_connection_file(ctx, "ferry_export_blob")).export_to_memory(options);
    sqlite3_result_blob64(ctx, bundle.data(), bundle.size(), SQLITE_TRANSIENT);
  });
}

void fn_import_blob(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB)
      throw ferry::Error(ferry::Errc::invalid_argument, "ferry_import_blob takes a bundle as a BLOB");
    const std::string_view bundle(static_cast<const char*>(sqlite3_value_blob(argv[0])),
                                  static_cast<std::size_t>(sqlite3_value_bytes(argv[0])));
    result_json(ctx, ferry::render::import_summary(on_caller(ctx).import_from_memory(bundle)));
  });
}

void fn_version(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_text(ctx, ferry::version(), -1, SQLITE_STATIC);
}

void fn_trust_list(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] {
    ferry::render::json out = ferry::render::json::array();
    for (const auto& p : on_caller(ctx).trusted()) out.push_back(ferry::render::peer(p));
    result_json(ctx, out);
  });
}

void fn_trust_add(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    const std::string name = argc > 2 && sqlite3_value_type(argv[2]) != SQLITE_NULL ? text_arg(argv[2], "the name") : "";
    const bool forget = argc > 3 && sqlite3_value_int64(argv[3]) != 0;
    auto engine = on_caller(ctx);
    result_json(ctx, ferry::render::trust_added(engine.trust_add(text_arg(argv[0], "the device"),
                                                                 text_arg(argv[1], "the key"), name, forget)));
  });
}

void fn_trust_remove(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    on_caller(ctx).trust_remove(text_arg(argv[0], "the device"));
    sqlite3_result_null(ctx);
  });
}

// ferry_trust_policy(): 'tofu' or 'strict'; ferry_trust_policy(policy) sets it first.
void fn_trust_policy(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    auto engine = on_caller(ctx);
    if (argc > 0) {
      const std::string policy = text_arg(argv[0], "the policy");
      if (policy != "strict" && policy != "tofu")
        throw ferry::Error(ferry::Errc::invalid_argument, "the trust policy is 'strict' or 'tofu', not '" +
                                                              ferry::printable(policy) + "'");
      engine.set_strict(policy == "strict");
    }
    sqlite3_result_text(ctx, engine.strict() ? "strict" : "tofu", -1, SQLITE_STATIC);
  });
}

// ferry_compat(): 3 or 4, the oldest ferry that reads what this device seals;
// ferry_compat(version) sets it first (`ferry compat DB [3|4]`).
void fn_compat(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    auto engine = on_caller(ctx);
    if (argc > 0) {
      const std::int64_t version = sqlite3_value_int64(argv[0]);
      if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || (version != 3 && version != 4))
        throw ferry::Error(ferry::Errc::invalid_argument, "ferry_compat takes 3 (seal for peers on ferry 3.x) or 4");
      engine.set_ferry3_compatible(version == 3);
    }
    sqlite3_result_int(ctx, engine.ferry3_compatible() ? 3 : 4);
  });
}

void fn_peers(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] {
    ferry::render::json out = ferry::render::json::array();
    for (const auto& p : on_caller(ctx).peers()) out.push_back(ferry::render::peer(p));
    result_json(ctx, out);
  });
}

// ferry_log([limit]): the operations held, newest first.
void fn_log(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    ferry::LogFilter filter;
    if (argc > 0 && sqlite3_value_type(argv[0]) != SQLITE_NULL) {
      const sqlite3_int64 limit = sqlite3_value_int64(argv[0]);
      if (limit < 1) throw ferry::Error(ferry::Errc::invalid_argument, "the limit must be at least 1");
      filter.limit = static_cast<std::size_t>(limit);
    }
    ferry::render::json out = ferry::render::json::array();
    for (const auto& op : on_caller(ctx).log(filter)) out.push_back(ferry::render::to_json(op));
    result_json(ctx, out);
  });
}

// ferry_history(table, key...): every version of one row, oldest first.
void fn_history(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    if (argc < 2)
      throw ferry::Error(ferry::Errc::invalid_argument, "ferry_history takes the table, then each column of the key");
    std::vector<ferry::Value> key;
    for (int i = 1; i < argc; ++i) key.push_back(value_of(argv[i]));
    result_json(ctx, ferry::render::history(on_caller(ctx).history(text_arg(argv[0], "the table"), key)));
  });
}

// ferry_as_of(table, when, file): the table as it was, written to a new database.
void fn_as_of(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    const auto at = ferry::PastPoint::parse(text_arg(argv[1], "the point in time (a UTC time or a clock)"));
    auto engine = on_caller(ctx);
    result_json(ctx, ferry::render::as_of(engine.table_as_of(text_arg(argv[0], "the table"), at,
                                                             text_arg(argv[2], "the file to write"))));
  });
}

void fn_import(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    auto engine = on_caller(ctx);
    result_json(ctx, ferry::render::import_summary(engine.import_bundle(text_arg(argv[0], "the bundle path"))));
  });
}

void fn_status(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] { result_json(ctx, ferry::render::status(on_caller(ctx).status())); });
}

void fn_conflicts(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] { result_json(ctx, ferry::render::conflicts(on_caller(ctx).conflicts())); });
}

void fn_resolve(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    const std::string keep = text_arg(argv[1], "what to keep");
    if (keep != "winner" && keep != "loser")
      throw ferry::Error(ferry::Errc::invalid_argument, "say what to keep: 'winner' or 'loser' (or use ferry_resolve_value)");
    auto engine = on_caller(ctx);
    const auto op = engine.resolve(sqlite3_value_int64(argv[0]), keep == "winner" ? ferry::Keep::winner : ferry::Keep::loser);
    result_json(ctx, ferry::render::to_json(op));
  });
}

void fn_resolve_value(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    auto engine = on_caller(ctx);
    result_json(ctx, ferry::render::to_json(engine.resolve(sqlite3_value_int64(argv[0]), value_of(argv[1]))));
  });
}

void fn_verify(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] { result_json(ctx, ferry::render::verify(on_caller(ctx).verify(), "database")); });
}

void fn_fingerprint(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    auto e = on_caller(ctx);
    result_json(ctx, ferry::render::fingerprint(argc > 0 ? e.fingerprint(text_arg(argv[0], "the scope")) : e.fingerprint()));
  });
}

void fn_reidentify(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] {
    auto engine = ferry::Engine::open(own_connection_file(ctx, "ferry_reidentify"));
    result_json(ctx, ferry::render::reidentified(engine.reidentify()));
  });
}

}  // namespace

extern "C" int sqlite3_ferry_init(sqlite3* db, char** error, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  // Not SQLITE_DETERMINISTIC, not SQLITE_INNOCUOUS: they change files, so SQLite
  // never calls them from a schema, a view or a trigger (trusted_schema off).
  static const Function functions[] = {
      {"ferry_init", 0, fn_init},        {"ferry_init", 1, fn_init},           {"ferry_track", 1, fn_track}, {"ferry_track", 2, fn_track},
      {"ferry_untrack", 1, fn_untrack},  {"ferry_export", 2, fn_export},       {"ferry_export", 3, fn_export},
      {"ferry_export", 4, fn_export},    {"ferry_export_blob", 3, fn_export_blob}, {"ferry_compat", 0, fn_compat},
      {"ferry_compat", 1, fn_compat},
      {"ferry_import", 1, fn_import},    {"ferry_status", 0, fn_status},       {"ferry_conflicts", 0, fn_conflicts},
      {"ferry_resolve", 2, fn_resolve},  {"ferry_resolve_value", 2, fn_resolve_value}, {"ferry_verify", 0, fn_verify},
      {"ferry_fingerprint", 0, fn_fingerprint},  {"ferry_fingerprint", 1, fn_fingerprint},  {"ferry_reidentify", 0, fn_reidentify},
      {"ferry_export_blob", 1, fn_export_blob},  {"ferry_export_blob", 2, fn_export_blob},
      {"ferry_import_blob", 1, fn_import_blob},  {"ferry_version", 0, fn_version},
      {"ferry_trust_list", 0, fn_trust_list},    {"ferry_trust_add", 2, fn_trust_add},
      {"ferry_trust_add", 3, fn_trust_add},      {"ferry_trust_add", 4, fn_trust_add},
      {"ferry_trust_remove", 1, fn_trust_remove}, {"ferry_trust_policy", 0, fn_trust_policy},
      {"ferry_trust_policy", 1, fn_trust_policy}, {"ferry_peers", 0, fn_peers},
      {"ferry_log", 0, fn_log},                  {"ferry_log", 1, fn_log},
      {"ferry_sync", 1, fn_sync},                {"ferry_sync", 2, fn_sync},
      {"ferry_history", -1, fn_history},         {"ferry_as_of", 3, fn_as_of},
  };
  std::vector<Function> all(std::begin(functions), std::end(functions));
  all.insert(all.end(), kFleetFunctions, kFleetFunctions + kFleetFunctionCount);
  for (const auto& f : all) {
    const int rc = sqlite3_create_function_v2(db, f.name, f.args, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr, f.fn, nullptr,
                                              nullptr, nullptr);
    if (rc != SQLITE_OK) {
      if (error) *error = sqlite3_mprintf("ferry: cannot register %s: %s", f.name, sqlite3_errstr(rc));
      return rc;
    }
  }
  return SQLITE_OK;
}
