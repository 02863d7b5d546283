#pragma once
// Canonical msgpack encoding of an Operation and the guarded decoder for it.
//
// operation  := operation1 | operation2
// operation1 := array(11) [ 1, id bin16, origin bin16, seq uint, lamport uint,
//                           clock array[ array(2)[bin16 device, uint seq] ] (devices ascending),
//                           table str, key array[value], kind uint(0 insert,1 update,2 delete),
//                           columns array[ array(2)[str name, value] ] (names ascending, unique),
//                           prev_hash bin32 ]
// operation2 := array(12) [ 2, origin bin16, scope str, seq uint, lamport uint, time_ms uint,
//                           deps array[ array(3)[bin16 device, str scope, uint seq] ]
//                                (by device, then scope, ascending; never the origin's own chain,
//                                 only chains of the origin's scope and of the shared one),
//                           table str, key array[value], kind uint, columns (as above), prev_hash bin32 ]
// value := nil | int (shortest form) | float64 (always 0xcb + 8 bytes) | str | bin
//
// Format 1 is the operation of bundle formats 2.0 and 3.0 (grammar and rules
// in bundle_format/README.md, "Canonical encoding"); format 2 that of 4.0
// (bundle_format/format4.md §3, §12.1), where a scope is "" (the shared
// scope) or a name of log/chain.h. The hash of an operation is SHA-256 over
// exactly these bytes.

#include <string>
#include <string_view>

#include "ferry/operation.h"
#include "ferry/value.h"
#include "log/chain.h"
#include "util/counters.h"

namespace ferry::log {

constexpr std::uint8_t kOperationFormat = 1;  // What bundle formats 2.0 and 3.0 carry.
constexpr std::uint8_t kNewestOperationFormat = 2;  // What bundle format 4.0 may carry too.
// A format 2 operation's time, in Unix milliseconds, fills the 48 bits of its id's time.
constexpr std::uint64_t kMaxTimeMs = (std::uint64_t{1} << 48) - 1;
// Limits that any operation ferry writes stays under; larger claims are hostile.
constexpr std::size_t kMaxValueBytes = 64u << 20;  // One TEXT or BLOB value.
// One encoded operation: what a bundle's reader accepts in a row of ferry_ops.
constexpr std::size_t kMaxBodyBytes = kMaxValueBytes + 4096;
constexpr std::size_t kMaxNameBytes = 1024;  // A table, column or device name.
constexpr std::size_t kMaxArray = 4096;  // Key values, columns; a format 1 clock's entries.
// Chains a format 2 operation's deps, or a kept clock, may name: no fleet
// reaches it. The decoder's array limit is this or the bytes left to decode,
// whichever is smaller, so what an array's header claims never costs more
// than the input it came in.
constexpr std::size_t kMaxChains = std::size_t{1} << 20;
// Sequence numbers and clock values stay at or below 2^62, far beyond any real
// chain, so that every successor and sum a receiver computes from them still
// fits in 63 bits.
constexpr std::uint64_t kMaxCounter = util::kMaxCounter;

// The canonical bytes of `op`, in its format. A chain of a scope other than
// the shared one (its origin, or an entry of its deps) is written by the
// (device, scope) name `names` gives it. Throws Error(invalid_argument) if
// the operation breaks the format's rules (unsorted columns; format 1: a
// clock lacking seq, a scope; format 2: deps naming the origin or a chain of
// another scope than its own and the shared one, an id other than the one
// origin, seq and time give, a scoped chain without `names`).
std::string encode(const Operation& op, const ChainNames* names = nullptr);

// Decodes canonical bytes; `where` prefixes every message ("bundle x.ferry: operation 12").
// Throws Error(corrupt) naming the field for anything that is not exactly
// the canonical encoding of a well-formed operation, or whose format is newer
// than `newest_format` but known (an operation of format 2 in a bundle of
// format 3.0 is damage); Error(refused) for a format this ferry does not
// know. A format 2 operation's chains come back as chain ids (log/chain.h),
// and the names of those of a scope are added to `names` when given.
Operation decode(std::string_view bytes, const std::string& where, std::uint8_t newest_format = kOperationFormat,
                 KnownChains* names = nullptr);

// As decode, for a body this database already holds, checked when it came
// (its log, read where a hash chain or the content hash covers it): the
// canonical re-encoding, which proves that a stranger's bytes are the one
// encoding, is left out. Any format this ferry reads.
Operation decode_held(std::string_view bytes, const std::string& where, KnownChains* names = nullptr);

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
// True when the canonical body `encoded` is that of operation `id`: for format
// 1 without decoding (the id is the second field); format 2 carries no id, so
// its body is decoded and the id derived.
bool has_id(std::string_view encoded, const OperationId& id);

// A vector clock as array[array[bin16 device, uint seq]], devices ascending (the
// same form as an operation's clock field).
std::string encode_clock(const VectorClock& clock);
VectorClock decode_clock(std::string_view bytes, const std::string& where);

}  // namespace ferry::log
