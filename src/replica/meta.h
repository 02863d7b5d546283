#pragma once
// ferry_meta: the small facts a database keeps about itself, one row each
// (bundle_format/README.md §11). The keys several stages read are named here.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ferry/operation.h"
#include "sql/database.h"

namespace ferry::replica {

std::optional<Value> get_meta(sql::Database& db, const std::string& key);
// A count kept in ferry_meta (lamport, sent_seq...): `fallback` when absent or not an integer.
std::uint64_t get_meta_count(sql::Database& db, const std::string& key, std::uint64_t fallback);
void set_meta(sql::Database& db, const std::string& key, const Value& value);

// Evidence that another database uses this device's identity (identity/identity.h),
// and how far the bundle that showed it agreed with this chain.
constexpr const char* kEvidenceKey = "identity_reused";
constexpr const char* kAgreedKey = "identity_agreed";
// How far this device's own chain left in bundles (identity/reissue.h).
constexpr const char* kSentKey = "sent_seq";
// The operation format this device seals (capture/sealer.h): absent for 2,
// 1 while a peer still runs ferry 3.x (Engine::set_ferry3_compatible).
constexpr const char* kSealFormatKey = "seal_format";
// The evidence kept by the import that found it, if any.
std::optional<std::string> reuse_evidence(sql::Database& db);
// How far the bundle that found it showed this device's chain to be the same as here; 0 if not at all.
std::uint64_t reuse_agreed(sql::Database& db);
// Forgets the evidence (the database has a new identity).
void clear_reuse_evidence(sql::Database& db);

// This database's own device id (Error(corrupt) when missing) and name.
DeviceId own_device_id(sql::Database& db);
std::string own_device_name(sql::Database& db);

// Chains forgotten here (identity/forget.h): for each device, the greatest of
// its numbers that operations held here follow.
std::map<DeviceId, std::uint64_t> forgotten(sql::Database& db);
void set_forgotten(sql::Database& db, const DeviceId& device, std::uint64_t up_to);

// How far this device's own chain of a scope went before the scope was
// removed here (exchange/purge.h): it seals nothing more there until an import
// brings those operations back. 0: never removed.
std::uint64_t purged_head(sql::Database& db, const DeviceId& chain);
void set_purged_head(sql::Database& db, const DeviceId& chain, std::uint64_t seq);

}  // namespace ferry::replica
