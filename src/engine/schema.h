#pragma once
// ferry's own tables inside the application database (all prefixed ferry_),
// created by init. Their layout is described in bundle_format/README.md,
// "The operations log inside an application database".

#include <cstdint>
#include <optional>
#include <string>

#include "sql/database.h"

namespace ferry::engine {

// 2: ferry_log keyed by (device number, seq) with no hash column; merge state of
//    integer keys in ferry_rows_<n>. Databases of version 1 (a pre-release) are refused.
constexpr int kLocalSchemaVersion = 3;  // 3: device keys and the trust store.

// Creates every ferry_ table, index and guard trigger; harmless when they exist.
void create_schema(sql::Database& db);
// The one exception to the log's append-only guard: deletes the ferry_log rows
// with ids first..last (log/store.h, log_id), inside the caller's transaction,
// and puts the guard back. Only for a chain this database stops holding as it
// was: operations made again under a new identity (engine/reissue.h), or a
// chain admitted under a key its device's owner disowned (engine/forget.h).
void remove_from_log(sql::Database& db, std::int64_t first, std::int64_t last);
// True when init has prepared this database.
bool has_schema(sql::Database& db);
// Sets WAL and synchronous=FULL on ferry's connection (the durability ferry
// promises), and sizes its page cache.
void configure_connection(sql::Database& db);
// Sizes the page cache to the database, between 8 and 32 MiB. What a cache
// saves is re-reading pages that already exist; the pages an engine call creates
// (log, merge state, a fresh replica's rows) are written once. Beyond the
// database's size, a cache only costs memory, and fresh memory is not free: a
// page fault per 4 KiB, about 12 us each on the virtual machines measured.
void size_page_cache(sql::Database& db);

std::optional<Value> get_meta(sql::Database& db, const std::string& key);
// A count kept in ferry_meta (lamport, sent_seq...): `fallback` when absent or not an integer.
std::uint64_t get_meta_count(sql::Database& db, const std::string& key, std::uint64_t fallback);
void set_meta(sql::Database& db, const std::string& key, const Value& value);

}  // namespace ferry::engine
