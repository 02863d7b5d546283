#pragma once
// Canonical msgpack encoding of an Operation and the guarded decoder for it.
//
// operation := array(11) [ format=1, id bin16, origin bin16, seq uint, lamport uint,
//                          clock array[ array[bin16 device, uint seq] ] (devices ascending),
//                          table str, key array[value], kind uint(0 insert,1 update,2 delete),
//                          columns array[ array[str name, value] ] (names ascending, unique),
//                          prev_hash bin32 ]
// value := nil | int (shortest form) | float64 (always 0xcb + 8 bytes) | str | bin
//
// The full grammar and its rules are in bundle_format/README.md ("Canonical
// encoding"). The hash of an operation is SHA-256 over exactly these bytes.

#include <string>
#include <string_view>

#include "ferry/operation.h"
#include "ferry/value.h"
#include "util/counters.h"

namespace ferry::log {

constexpr std::uint64_t kOperationFormat = 1;
// Limits that any operation ferry writes stays under; larger claims are hostile.
constexpr std::size_t kMaxValueBytes = 64u << 20;  // One TEXT or BLOB value.
// One encoded operation: what a bundle's reader accepts in a row of ferry_ops.
constexpr std::size_t kMaxBodyBytes = kMaxValueBytes + 4096;
constexpr std::size_t kMaxNameBytes = 1024;  // A table, column or device name.
constexpr std::size_t kMaxArray = 4096;            // Clock entries, key values, columns.
// Sequence numbers and clock values stay at or below 2^62, far beyond any real
// chain, so that every successor and sum a receiver computes from them still
// fits in 63 bits.
constexpr std::uint64_t kMaxCounter = util::kMaxCounter;

// The canonical bytes of `op`. Throws Error(invalid_argument) if the
// operation breaks the format's rules (unsorted columns, clock lacking seq).
std::string encode(const Operation& op);

// Decodes canonical bytes; `where` prefixes every message ("bundle x.ferry: operation 12").
// Throws Error(corrupt) naming the field for anything that is not exactly
// the canonical encoding of a well-formed operation.
Operation decode(std::string_view bytes, const std::string& where);

// Canonical encoding of a list of values (used for primary keys as lookup keys).
std::string encode_values(const std::vector<Value>& values);
std::vector<Value> decode_values(std::string_view bytes, const std::string& where);

Hash hash_of(std::string_view encoded);

// True when the canonical body `encoded` names `prev` as its prev_hash. The
// encoding ends with that field (a 32-byte bin), so no decoding is needed.
bool links_to(std::string_view encoded, const Hash& prev);
// A delta bundle stores each body without that last field, which the chain
// determines (bundle_format/README.md, "The bundle file"): 34 incompressible
// bytes fewer per operation. `unlinked` cuts it off (REQUIRES: `encoded` is a
// canonical body); `relink` puts `prev` back, writing the canonical body to `out`.
constexpr std::size_t kLinkBytes = 2 + 32;  // bin8 header, then the hash.
std::string_view unlinked(std::string_view encoded);
void relink(std::string_view unlinked_body, const Hash& prev, std::string& out);
// True when the canonical body `encoded` is that of operation `id` (the id is
// the second field), again without decoding.
bool has_id(std::string_view encoded, const OperationId& id);

// A vector clock as array[array[bin16 device, uint seq]], devices ascending (the
// same form as an operation's clock field).
std::string encode_clock(const VectorClock& clock);
VectorClock decode_clock(std::string_view bytes, const std::string& where);

}  // namespace ferry::log
