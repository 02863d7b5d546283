#pragma once
// Constants and shared encodings of the bundle file format (bundle_format/README.md).

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/reports.h"
#include "log/chain.h"
#include "log/codec.h"

namespace ferry::bundle {

extern const char* const kSchemaSql;             // bundle_format/schema.sql (2.0, 3.0), embedded at build time.
extern const char* const kSchema4Sql;            // bundle_format/schema4.sql (4.0).
extern const char* const kSchema41Sql;           // bundle_format/schema4.1.sql: what 4.1 adds to 4.0.
extern const char* const kSchema42Sql;           // bundle_format/schema4.2.sql: what 4.2 adds to 4.1.
constexpr std::uint32_t kFormatMajor = 4;        // The newest read; readers refuse a greater major version.
constexpr std::uint32_t kExportFormatMajor = 4;  // What export writes.
constexpr std::uint32_t kOldestFormatMajor = 2;  // The oldest still read (2.0 stored whole bodies).
// Additions within a major version. A 3.x reader ignores them; from 4.0 on, a
// minor version adds tables, and a reader refuses, as newer, a bundle with
// tables it does not know (format4.md §5). 4.1 adds ferry_addressee; the
// writer writes 4.1 for a bundle written for a device (4.0 otherwise); 4.2
// adds chains of a scope and ferry_table_scopes, written whenever the
// database has scoped tables or chains (format4.md §12.6).
constexpr std::uint32_t kFormatMinor = 2;
// The minor version that names chains of a scope and scoped tables (format4.md §12.6).
constexpr std::uint32_t kScopesMinor = 2;
// 4.0 on: the most chains a bundle may number (ferry_chains), beyond any fleet.
constexpr std::size_t kMaxChains = log::kMaxChains;
constexpr std::int32_t kApplicationId = 0x46525259;  // "FRRY" at offset 68 of the SQLite header.
constexpr std::uint32_t kPageSize = 4096;
constexpr std::uint64_t kMaxBundleBytes = std::uint64_t{4} << 30;  // Refused beyond, before reading.

// Whether the bundle's bodies end with their prev_hash field. From format 3.0 on,
// a delta bundle leaves it out (the chain determines it); a snapshot's operations
// are not a contiguous chain, so it keeps it.
inline bool bodies_carry_links(const BundleInfo& info) { return info.snapshot || info.format_major < 3; }

// What a format 4.0 bundle says beside BundleInfo: the numbering of its
// chains (ferry_chains), by chain id (log/chain.h), which is device order
// while every chain is a device's shared one; 4.2 names a chain of a scope
// by (device, scope) (format4.md §12.6).
struct Chains {
  std::vector<DeviceId> devices;  // Chain ids: number i + 1 at index i, in byte order.
  log::KnownChains names;         // The chains of a scope among them (BundleInfo::scoped_chains).

  // Every chain the clock (with clock_dropped) or a range of `info` names, and `also`: chains
  // only the deps of operations carried name (a relay's pending operations
  // may follow chains it does not hold). Throws Error(internal) for a chain
  // of a scope info.scoped_chains does not name.
  static Chains of(const BundleInfo& info, const std::vector<DeviceId>& also = {});
  // The number of `device`, or 0 when the bundle does not number it.
  std::uint64_t number(const DeviceId& device) const;
  // True when a chain of a scope is among them: the file is 4.2.
  bool any_scoped() const;
};

// The canonical bytes that start the content hash: everything in ferry_bundle
// but the hash itself, the ranges and the tables; from 4.0 on also the chains
// (see the spec, "Content hash").
std::string encode_header(const BundleInfo& info, const Chains& chains = {});
// A 4.0 clock: array[ array(2)[uint chain, uint seq] ], chains ascending; in
// 4.1, against a reference, with seq 0 for each of info.clock_dropped.
std::string encode_numbered_clock(const BundleInfo& info, const Chains& chains);
// One row of a 4.0 snapshot's ferry_deps as its content hash covers it:
// array(4)[uint chain, uint dep, uint seq, uint dep_seq].
std::string encode_causal_row(std::uint64_t chain, std::uint64_t dep, std::uint64_t seq, std::uint64_t dep_seq);

// What an origin signs to vouch for its chain up to `seq`: "ferry-head-v1\0" |
// origin (16 bytes) | seq (u64 big-endian) | hash of operation seq (32 bytes).
std::string head_message(const DeviceId& origin, std::uint64_t seq, const Hash& hash);
// The same for its chain of `scope` (format4.md §12.6), v1 for the shared
// scope: "ferry-head-v2\0" | origin | u8 length | scope | seq | hash.
std::string head_message(const DeviceId& origin, const std::string& scope, std::uint64_t seq, const Hash& hash);
// What the exporter signs: "ferry-bundle-v2\0" | content hash (32 bytes).
std::string bundle_message(const Hash& content_hash);

}  // namespace ferry::bundle
