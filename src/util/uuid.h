#pragma once
// UUIDv7 generation: 48 bits of Unix milliseconds, the version and variant
// bits, and 74 random bits from OpenSSL's CSPRNG (RAND_bytes, seeded by the
// operating system; an entropy failure is an error, never a weaker fallback).

#include <cstdint>

#include "ferry/ids.h"

namespace ferry::util {

Uuid make_uuid_v7(std::int64_t unix_ms);
// The id of operation `seq` of device `origin`: a UUIDv7 whose 74 bits after the
// time are the origin's own random bits with `seq` XORed into the last 64. Unique
// for as long as device ids are, and, unlike fresh random bits, they repeat from
// one operation to the next, so a compressed bundle carries about 3 bytes per id
// instead of 10 (bundle_format/README.md, "The operation").
Uuid make_operation_id(std::int64_t unix_ms, const Uuid& origin, std::uint64_t seq);
// Milliseconds since the Unix epoch, from the system clock, plus the skew
// set_clock_skew gave (0 unless a test set one), saturating at the int64_t
// range. Every wall time ferry records comes from here.
std::int64_t now_ms();
// The seam of the clock-skew tests (RELIABILITY.md TI-01): from now on
// now_ms() is off by `ms` in this process, as on a device whose clock is.
void set_clock_skew(std::int64_t ms);

}  // namespace ferry::util
