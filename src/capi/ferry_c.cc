// The C API (include/ferry/ferry.h): each function turns its C arguments into
// a call on ferry::Engine inside one try block, so no exception crosses into C,
// and keeps the message of a failure on the handle.
#include "ferry/ferry.h"

#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "capi/capi.h"
#include "ferry/engine.h"
#include "ferry/json.h"
#include "sql/database.h"

namespace {

using namespace ferry::capi;

template <typename Open>
ferry_code open_with(ferry_db** out, Open&& open) {
  if (out == nullptr) return FERRY_INVALID_ARGUMENT;
  *out = new (std::nothrow) ferry_db();
  if (*out == nullptr) return FERRY_INTERNAL;
  ferry_db* db = *out;
  try {
    db->engine.emplace(open());
    db->device_id = db->engine->device_id().to_string();
    return FERRY_OK;
  } catch (const ferry::Error& e) {
    db->error = e.what();
    return code_of(e.code());
  } catch (const std::exception& e) {
    db->error = std::string("cannot open the database: ") + e.what();
    return FERRY_INTERNAL;
  }
}

ferry::Progress progress_of(ferry_progress progress, void* user) {
  if (progress == nullptr) return {};
  return [progress, user](std::size_t done, std::size_t total) { progress(user, done, total); };
}

ferry::ExportOptions options_of(const ferry_export_options* o) {
  ferry::ExportOptions out;
  if (o == nullptr) return out;
  if (o->peer) out.peer = o->peer;
  out.all = o->all != 0;
  if (o->since && *o->since) out.since = ferry::VectorClock::parse(o->since);
  out.snapshot = o->snapshot != 0;
  if (o->encrypt_for) out.encrypt_for = o->encrypt_for;
  out.format = o->format < 0 ? 1u : static_cast<unsigned>(o->format);  // 1: refused by name, as any unknown format.
  out.progress = progress_of(o->progress, o->progress_user);
  return out;
}

void fill(ferry_export_summary* out, const ferry::ExportSummary& s) {
  if (out == nullptr) return;
  out->operations = s.operations;
  out->bytes = s.bytes;
  std::snprintf(out->bundle_id, sizeof out->bundle_id, "%s", s.bundle_id.to_string().c_str());
}

void fill(ferry_db* db, ferry_import_summary* out, const ferry::ImportSummary& s) {
  db->discarded_why.clear();
  for (const auto& why : s.discarded) db->discarded_why += why + "\n";
  if (out == nullptr) return;
  out->applied = s.applied;
  out->duplicates = s.duplicates;
  out->pending = s.pending;
  out->conflicts = s.conflicts;
  out->foreign_key_violations = s.foreign_key_violations;
  out->newly_trusted = s.newly_trusted.size();
  out->discarded = s.discarded.size();
  out->discarded_why = db->discarded_why.c_str();
}

}  // namespace

extern "C" {

ferry_code ferry_init(const char* path, const char* name, ferry_db** out) {
  return open_with(out, [&] {
    require(path, "the database path");
    return ferry::Engine::init(path, name ? name : "");
  });
}

ferry_code ferry_open(const char* path, ferry_db** out) {
  return open_with(out, [&] {
    require(path, "the database path");
    return ferry::Engine::open(path);
  });
}

ferry_code ferry_open_connection(void* connection, ferry_db** out) {
  return open_with(out, [&] {
    require(connection, "the connection");
    const std::string file = ferry::sql::main_file(static_cast<sqlite3*>(connection));
    if (file.empty())
      throw ferry::Error(ferry::Errc::invalid_argument,
                         "the connection's main database is in memory or temporary; ferry needs a database file");
    return ferry::Engine::open(file);
  });
}

void ferry_close(ferry_db* db) { delete db; }

const char* ferry_errmsg(const ferry_db* db) {
  return db == nullptr ? "no handle (out of memory, or a NULL handle was passed)" : db->error.c_str();
}

void ferry_free(void* p) { std::free(p); }

const char* ferry_device_id(ferry_db* db) { return db == nullptr || !db->engine ? nullptr : db->device_id.c_str(); }

ferry_code ferry_track(ferry_db* db, const char* table, size_t* backfilled) {
  return guarded(db, [&](ferry::Engine& e) {
    require(table, "the table name");
    const std::size_t n = e.track(table);
    if (backfilled) *backfilled = n;
  });
}

ferry_code ferry_track_scoped(ferry_db* db, const char* table, const char* scope, size_t* backfilled) {
  return guarded(db, [&](ferry::Engine& e) {
    require(table, "the table name");
    require(scope, "the scope expression");
    const std::size_t n = e.track(table, scope);
    if (backfilled) *backfilled = n;
  });
}

ferry_code ferry_untrack(ferry_db* db, const char* table) {
  return guarded(db, [&](ferry::Engine& e) {
    require(table, "the table name");
    e.untrack(table);
  });
}

ferry_code ferry_export(ferry_db* db, const char* path, const ferry_export_options* options,
                        ferry_export_summary* summary) {
  return guarded(db, [&](ferry::Engine& e) {
    require(path, "the bundle path");
    fill(summary, e.export_bundle(path, options_of(options)));
  });
}

ferry_code ferry_export_to_memory(ferry_db* db, const ferry_export_options* options, void** data, size_t* size,
                                  ferry_export_summary* summary) {
  return guarded(db, [&](ferry::Engine& e) {
    require(data, "data");
    require(size, "size");
    ferry::ExportSummary s;
    const std::string bytes = e.export_to_memory(options_of(options), &s);
    void* buffer = std::malloc(bytes.size() ? bytes.size() : 1);
    if (buffer == nullptr) throw std::bad_alloc();
    std::memcpy(buffer, bytes.data(), bytes.size());
    *data = buffer;
    *size = bytes.size();
    fill(summary, s);
  });
}

ferry_code ferry_import(ferry_db* db, const char* path, ferry_progress progress, void* progress_user,
                        ferry_import_summary* summary) {
  return guarded(db, [&](ferry::Engine& e) {
    require(path, "the bundle path");
    fill(db, summary, e.import_bundle(path, progress_of(progress, progress_user)));
  });
}

ferry_code ferry_import_from_memory(ferry_db* db, const void* data, size_t size, ferry_progress progress,
                                    void* progress_user, ferry_import_summary* summary) {
  return guarded(db, [&](ferry::Engine& e) {
    require(data, "data");
    const std::string_view bytes(static_cast<const char*>(data), size);
    fill(db, summary, e.import_from_memory(bytes, progress_of(progress, progress_user)));
  });
}

ferry_code ferry_compat(ferry_db* db, int version, int* current) {
  return guarded(db, [&](ferry::Engine& e) {
    if (version != 0 && version != 3 && version != 4)
      throw ferry::Error(ferry::Errc::invalid_argument, "the version to seal for is 3 (ferry 3.x peers) or 4, not " +
                                                            std::to_string(version) + "; 0 changes nothing");
    if (version != 0) e.set_ferry3_compatible(version == 3);
    if (current) *current = e.ferry3_compatible() ? 3 : 4;
  });
}

ferry_code ferry_status(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(json, "json");
    *json = copy_out(ferry::render::status(e.status()).dump());
  });
}

ferry_code ferry_conflicts(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(json, "json");
    *json = copy_out(ferry::render::conflicts(e.conflicts()).dump());
  });
}

ferry_code ferry_resolve(ferry_db* db, int64_t id, int keep_loser) {
  return guarded(db, [&](ferry::Engine& e) { (void)e.resolve(id, keep_loser ? ferry::Keep::loser : ferry::Keep::winner); });
}

ferry_code ferry_resolve_value(ferry_db* db, int64_t id, const char* literal) {
  return guarded(db, [&](ferry::Engine& e) {
    require(literal, "the value");
    (void)e.resolve(id, ferry::Value::parse(literal));
  });
}

ferry_code ferry_verify(ferry_db* db, int* ok, char** first_failure) {
  return guarded(db, [&](ferry::Engine& e) {
    require(ok, "ok");
    const ferry::VerifyReport r = e.verify();
    *ok = r.ok ? 1 : 0;
    if (first_failure) *first_failure = copy_out(r.first_failure);
  });
}

ferry_code ferry_fingerprint(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(json, "json");
    *json = copy_out(ferry::render::fingerprint(e.fingerprint()).dump());
  });
}

ferry_code ferry_fingerprint_scope(ferry_db* db, const char* scope, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(scope, "the scope");
    require(json, "json");
    *json = copy_out(ferry::render::fingerprint(e.fingerprint(scope)).dump());
  });
}

ferry_code ferry_identity(ferry_db* db, char** public_key, char** fingerprint) {
  return guarded(db, [&](ferry::Engine& e) {
    const ferry::StatusReport s = e.status();
    char* key = public_key ? copy_out(s.public_key) : nullptr;
    if (fingerprint) {
      try {
        *fingerprint = copy_out(s.fingerprint);
      } catch (...) {
        std::free(key);
        throw;
      }
    }
    if (public_key) *public_key = key;
  });
}

ferry_code ferry_reidentify(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    const ferry::Reidentified r = e.reidentify();
    db->device_id = r.device.to_string();
    if (json) *json = copy_out(ferry::render::reidentified(r).dump());
  });
}


ferry_code ferry_trust_list(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(json, "json");
    ferry::render::json out = ferry::render::json::array();
    for (const auto& p : e.trusted()) out.push_back(ferry::render::peer(p));
    *json = copy_out(out.dump());
  });
}

ferry_code ferry_trust_add(ferry_db* db, const char* device, const char* key, const char* name, int forget,
                           char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(device, "the device");
    require(key, "the key");
    const ferry::TrustAdded r = e.trust_add(device, key, name ? name : "", forget != 0);
    if (json) *json = copy_out(ferry::render::trust_added(r).dump());
  });
}

ferry_code ferry_trust_remove(ferry_db* db, const char* device) {
  return guarded(db, [&](ferry::Engine& e) {
    require(device, "the device");
    e.trust_remove(device);
  });
}

ferry_code ferry_trust_policy(ferry_db* db, const char* policy) {
  return guarded(db, [&](ferry::Engine& e) {
    require(policy, "the policy");
    const std::string p = policy;
    if (p != "strict" && p != "tofu")
      throw ferry::Error(ferry::Errc::invalid_argument, "the trust policy is \"strict\" or \"tofu\"");
    e.set_strict(p == "strict");
  });
}

ferry_code ferry_peers(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(json, "json");
    ferry::render::json out = ferry::render::json::array();
    for (const auto& p : e.peers()) out.push_back(ferry::render::peer(p));
    *json = copy_out(out.dump());
  });
}

ferry_code ferry_log(ferry_db* db, size_t limit, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(json, "json");
    ferry::LogFilter filter;
    filter.limit = limit;
    ferry::render::json out = ferry::render::json::array();
    for (const auto& op : e.log(filter)) out.push_back(ferry::render::to_json(op));
    *json = copy_out(out.dump());
  });
}

ferry_code ferry_history(ferry_db* db, const char* table, const char* const* key, size_t key_count, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(table, "the table");
    require(json, "json");
    if (key_count > 0) require(key, "the key");
    std::vector<ferry::Value> values;
    for (size_t i = 0; i < key_count; ++i) {
      require(key[i], "a key value");
      values.push_back(ferry::Value::parse(key[i]));
    }
    *json = copy_out(ferry::render::history(e.history(table, values)).dump());
  });
}

ferry_code ferry_as_of(ferry_db* db, const char* table, const char* when, const char* path, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(table, "the table");
    require(when, "the point in time");
    require(path, "the file to write");
    const ferry::AsOfSummary s = e.table_as_of(table, ferry::PastPoint::parse(when), path);
    if (json) *json = copy_out(ferry::render::as_of(s).dump());
  });
}

const char* ferry_version(void) { return ferry::version(); }

}  // extern "C"
