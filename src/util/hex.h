#pragma once
// Lower-case hexadecimal text for bytes, and back.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/operation.h"

namespace ferry::util {

std::string hex(const std::uint8_t* data, std::size_t n);
// Reads exactly 2 * n hex digits (either case) into out; false otherwise.
bool unhex(std::string_view text, std::uint8_t* out, std::size_t n);
// A SHA-256 hash from its 64 hex digits; nullopt for anything else.
std::optional<Hash> hash_from_hex(std::string_view text);

}  // namespace ferry::util
