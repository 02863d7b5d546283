#pragma once
// Constants and shared encodings of the bundle file format (bundle_format/README.md).

#include <cstdint>
#include <string>

#include "ferry/reports.h"

namespace ferry::bundle {

extern const char* const kSchemaSql;             // bundle_format/schema.sql, embedded at build time.
constexpr std::uint32_t kFormatMajor = 3;        // Written; readers refuse a greater major version.
constexpr std::uint32_t kOldestFormatMajor = 2;  // The oldest still read (2.0 stored whole bodies).
constexpr std::uint32_t kFormatMinor = 0;        // Additions a major-1 reader may ignore.
constexpr std::int32_t kApplicationId = 0x46525259;  // "FRRY" at offset 68 of the SQLite header.
constexpr std::uint32_t kPageSize = 4096;
constexpr std::uint64_t kMaxBundleBytes = std::uint64_t{4} << 30;  // Refused beyond, before reading.

// Whether the bundle's bodies end with their prev_hash field. From format 3.0 on,
// a delta bundle leaves it out (the chain determines it); a snapshot's operations
// are not a contiguous chain, so it keeps it.
inline bool bodies_carry_links(const BundleInfo& info) { return info.snapshot || info.format_major < 3; }

// The canonical bytes that start the content hash: everything in ferry_bundle
// but the hash itself, the ranges and the tables (see the spec, "Content hash").
std::string encode_header(const BundleInfo& info);

// What an origin signs to vouch for its chain up to `seq`: "ferry-head-v1\0" |
// origin (16 bytes) | seq (u64 big-endian) | hash of operation seq (32 bytes).
std::string head_message(const DeviceId& origin, std::uint64_t seq, const Hash& hash);
// What the exporter signs: "ferry-bundle-v2\0" | content hash (32 bytes).
std::string bundle_message(const Hash& content_hash);

}  // namespace ferry::bundle
