#pragma once
// Uuid: the 16-byte identifiers ferry uses for devices, operations and bundles
// (UUIDv7: 48 bits of Unix milliseconds, then random bits). The canonical text
// form is the lower-case 8-4-4-4-12 hex form.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  // Milliseconds since the Unix epoch stored in a UUIDv7's first 48 bits.
  std::int64_t unix_ms() const noexcept;
  std::string to_string() const;
  // Parses the canonical text form (hyphens optional, either case); nullopt if malformed.
  static std::optional<Uuid> parse(std::string_view text);

  friend bool operator==(const Uuid& a, const Uuid& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const Uuid& a, const Uuid& b) { return a.bytes != b.bytes; }
  friend bool operator<(const Uuid& a, const Uuid& b) { return a.bytes < b.bytes; }
};

using DeviceId = Uuid;
using OperationId = Uuid;

// Raw public keys (Ed25519 for signing, X25519 for encryption) and Ed25519 signatures.
using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

}  // namespace ferry
#pragma GCC visibility pop
