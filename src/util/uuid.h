#pragma once
// UUIDv7 generation: 48 bits of Unix milliseconds, the version and variant
// bits, and 74 random bits from OpenSSL's CSPRNG (RAND_bytes, seeded by the
// operating system; an entropy failure is an error, never a weaker fallback).

#include <cstdint>

#include "ferry/ids.h"

namespace ferry::util {

Uuid make_uuid_v7(std::int64_t unix_ms);
// Milliseconds since the Unix epoch, from the system clock.
std::int64_t now_ms();

}  // namespace ferry::util
