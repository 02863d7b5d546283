// The Reader's trust steps: decrypting an encrypted bundle's private copy, and
// checking the exporter's and the origins' signatures (bundle_format/README.md
// sections 14 and 15).
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "bundle/format.h"
#include "bundle/reader.h"
#include "ferry/error.h"
#include "trust/envelope.h"
#include "trust/keys.h"

namespace ferry::bundle {

void Reader::unseal_copy(const Unsealer& unseal) {
  const auto envelope = trust::peek_envelope(copy_, path_);
  if (!envelope) return;
  if (!unseal)
    throw Error(Errc::refused, path_ + ": is encrypted for device " + envelope->recipient.to_string() +
                                   "; only that device can read it (import it there)");
  const std::string plain = folder_->file("plain");
  unseal(copy_, plain);
  ::unlink(copy_.c_str());
  copy_ = plain;
  struct stat st;
  if (::stat(copy_.c_str(), &st) != 0) throw Error(Errc::database, copy_ + ": cannot read the decrypted bundle");
  size_ = static_cast<std::uint64_t>(st.st_size);
}

void Reader::authenticate() {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  // Fuzzing builds only (tools/fuzz.sh): mutated bundles must reach the parser and
  // the importer behind the signatures, so a signature that fails is let through.
  auto signed_by = [](const PublicKey&, const std::string&, const Signature&) { return true; };
#else
  auto signed_by = [](const PublicKey& key, const std::string& message, const Signature& signature) {
    return trust::verify(key, message, signature);
  };
#endif
  // Every signed field but the exporter's signature is also under the content
  // hash, so damage anywhere is named as damage (check_content throws
  // Error(corrupt)) before a signature or a key that it broke is blamed.
  auto refuse = [&](Errc code, const std::string& what) {
    check_content();
    throw Error(code, path_ + ": " + what);
  };
  const std::string exporter = "device " + info_.exporter.to_string();
  // One key per device, whichever of its chains (format4.md §12.9) it signs, and one device per key.
  std::map<PublicKey, DeviceId> owner_of;
  std::map<DeviceId, PublicKey> key_of;
  if (!signed_by(info_.signer_key, bundle_message(info_.content_hash), info_.signature))
    // Failing against the key its own bundle names, it forges nothing: its bytes were changed.
    refuse(Errc::corrupt, "its signature does not verify against the key of " + exporter +
                              " that it names: the bundle was changed after it was signed. Nothing was imported.");
  for (std::size_t i = 0; i < info_.ranges.size(); ++i) {
    const SeqRange& r = info_.ranges[i];
    // A chain of a scope is its device's, signed with that device's key (format4.md §12.6).
    if (log::is_scoped_chain(r.device) && info_.format_major < 4)
      refuse(Errc::corrupt, "names a device of UUID version 8, the form of a scope's chain, which no device has");
    const log::ChainName name = chains_.names.name(r.device);
    const std::string origin = "device " + name.device.to_string() + (name.scope.empty() ? "" : ", scope '" + printable(name.scope) + "',");
    if (name.device == info_.exporter ? info_.origin_keys[i] != info_.signer_key : info_.origin_keys[i] == info_.signer_key)
      refuse(Errc::untrusted, "the operations of " + origin + " are signed with the key of " +
                                  (name.device == info_.exporter ? "another device" : "the exporter, " + exporter) +
                                  ": a device may only sign its own operations (forged by whoever passed them on). "
                                  "Nothing was imported.");
    const auto [known_owner, fresh_key] = owner_of.emplace(info_.origin_keys[i], name.device);
    const auto [known_key, fresh_device] = key_of.emplace(name.device, info_.origin_keys[i]);
    if (!fresh_device && known_key->second != info_.origin_keys[i])
      refuse(Errc::untrusted, "device " + name.device.to_string() + " presents two keys for its chains in the bundle: "
                              "one of them is forged. Nothing was imported.");
    if (!fresh_key && known_owner->second != name.device)
      refuse(Errc::untrusted, "device " + name.device.to_string() +
                                  " presents the key of another device in the bundle: one of them is forged. Nothing "
                                  "was imported.");
    // Intact as its exporter signed it: the exporter vouches for a head its origin never signed.
    if (!signed_by(info_.origin_keys[i], head_message(name.device, name.scope, r.last, info_.last_hashes[i]),
                   info_.head_signatures[i]))
      refuse(Errc::untrusted, "operations " + std::to_string(r.first) + "-" + std::to_string(r.last) + " of " + origin +
                                  " do not carry that device's valid signature: they were changed or forged by whoever "
                                  "passed them on. Nothing was imported.");
  }
  info_.exporter_fingerprint = trust::fingerprint(info_.exporter, info_.signer_key);
}

}  // namespace ferry::bundle
