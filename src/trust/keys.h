#pragma once
// Device keys (bundle_format/README.md, "Signatures"): every device has an
// Ed25519 key pair that signs its chain heads and its bundles, and an X25519
// key pair that bundles encrypted for it are sealed to. The public halves are
// the device's identity; the private halves live in one file beside the
// database (key_path()), mode 0600, and never in the database or a bundle.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/ids.h"
#include "util/handle.h"

typedef struct evp_pkey_st EVP_PKEY;
extern "C" void EVP_PKEY_free(EVP_PKEY* key);

namespace ferry::trust {

using ferry::PublicKey;
using ferry::Signature;

// What other devices pin: the signing key and the key bundles are encrypted to.
struct Identity {
  PublicKey sign{};
  PublicKey box{};
  friend bool operator==(const Identity& a, const Identity& b) { return a.sign == b.sign && a.box == b.box; }
  friend bool operator!=(const Identity& a, const Identity& b) { return !(a == b); }
};

// 128 hex digits: the signing key, then the box key. What `ferry trust add` takes.
std::string to_text(const Identity& identity);
std::optional<Identity> parse_identity(std::string_view text);
// Five groups of four hex digits of SHA-256(device id || signing key): short
// enough to read over the phone, long enough (80 bits) that no one can forge a
// match. (The encryption key reaches others in bundles that key signed.)
std::string fingerprint(const DeviceId& device, const PublicKey& sign);

// True only if `signature` is `key`'s Ed25519 signature of `message`.
bool verify(const PublicKey& key, std::string_view message, const Signature& signature);

class KeyPair {
 public:
  static KeyPair generate();
  // Reads the key file of `device`. Refuses a missing file, a symbolic link, a
  // file others may read or write, another device's file, or a malformed one.
  static KeyPair load(const std::string& path, const DeviceId& device);
  // Writes the key file atomically (temporary file, fsync, rename), mode 0600.
  void save(const std::string& path, const DeviceId& device) const;

  Identity identity() const;
  Signature sign(std::string_view message) const;
  // X25519 agreement of this device's box key with `peer`; throws on a degenerate result.
  std::array<std::uint8_t, 32> agree(const PublicKey& peer) const;

 private:
  KeyPair(EVP_PKEY* sign, EVP_PKEY* box);
  util::Handle<EVP_PKEY, EVP_PKEY_free> sign_;
  util::Handle<EVP_PKEY, EVP_PKEY_free> box_;
};

// Where the private keys of the database at `db_path` live: `<db_path>.key`.
std::string key_path(const std::string& db_path);
// Where `ferry reidentify` writes the new keys before its commit: `<db_path>.key.next`.
std::string next_key_path(const std::string& db_path);

// Raises Error(internal) with OpenSSL's own description of its last failure.
[[noreturn]] void openssl_failed(const char* what);

}  // namespace ferry::trust
