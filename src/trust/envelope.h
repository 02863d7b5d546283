#pragma once
// The envelope: a bundle encrypted for one device (bundle_format/README.md,
// "Encrypted bundles"). A carrier sees the recipient's id and the size, nothing
// else; any change to any byte is found before the plaintext is used.
//
//   header (96 bytes) := "FERRYENC" | version 1 | 3 zero bytes | recipient device id (16)
//                        | recipient box key (32) | ephemeral X25519 key (32) | chunk size (u32 BE, 65536)
//   then chunks: AES-256-GCM(plaintext chunk) | tag (16), every chunk but the last
//   holding exactly `chunk size` plaintext bytes, the last 0..chunk size.
//   key   = HKDF-SHA256(X25519(ephemeral, recipient box key), salt = ephemeral key | recipient box key,
//                       info = "ferry-envelope-v1")
//   nonce = 4 zero bytes | chunk number (u64 BE); AAD = header | 1 for the last chunk, 0 otherwise.

#include <cstdint>
#include <optional>
#include <string>

#include "ferry/ids.h"
#include "trust/keys.h"

namespace ferry::trust {

struct EnvelopeHeader {
  DeviceId recipient;
  PublicKey recipient_box{};
  PublicKey ephemeral{};
};

// The header, if the file at `path` starts like an envelope; nullopt otherwise.
// Throws Error(corrupt) for a file that starts like one but whose header is
// malformed, naming `shown` (the file as the person named it).
std::optional<EnvelopeHeader> peek_envelope(const std::string& path, const std::string& shown);

// Encrypts the file `plain` for `recipient` into `target` (complete or not at all),
// and checks that what reached the disk decrypts to the same bytes.
void seal_envelope(const std::string& plain, const std::string& target, const DeviceId& recipient,
                   const PublicKey& recipient_box);

// Decrypts `sealed` (a private copy of the file the person named `shown`) into
// `plain`. Throws Error(refused) when it is for another device or key, and
// Error(corrupt) when any byte was changed, added or cut.
void open_envelope(const std::string& sealed, const std::string& plain, const std::string& shown, const DeviceId& self,
                   const KeyPair& keys);

}  // namespace ferry::trust
