// Engine::import_bundle: verify the file, apply it in one transaction
// (exchange/import.h), and keep the evidence a refusal carries.
#include "bundle/reader.h"
#include "engine/engine_impl.h"
#include "exchange/import.h"
#include "identity/identity.h"
#include "trust/envelope.h"

namespace ferry {

ImportSummary Engine::import_bundle(const std::string& path, const Progress& progress) {
  // The file, its header, its SQLite structure, its schema and its signatures are
  // checked here; an encrypted bundle is decrypted first, with this device's key.
  identity::require_own_identity(impl_->db);
  bundle::Reader reader(path, [&](const std::string& sealed, const std::string& plain) {
    trust::open_envelope(sealed, plain, path, impl_->self, impl_->key_pair());
  });
  try {
    return exchange::apply_bundle(impl_->db, impl_->self, reader, progress);
  } catch (const Error& refusal) {
    if (refusal.code() != Errc::refused && refusal.code() != Errc::untrusted) throw;
    // The import rolled back. It may have stopped at a stated clock, a range or an
    // operation before the content hash was checked at the end: a refusal, and
    // the evidence it keeps for good, is believed only of a bundle that is what
    // its signers signed. A damaged one is Error(corrupt) here, and nothing is kept.
    reader.check_content();
    exchange::keep_evidence(impl_->db, refusal, path);
    throw;
  }
}

bool Engine::imported(const OperationId& bundle_id, const Hash& content_hash) {
  return exchange::imported(impl_->db, bundle_id, content_hash);
}

}  // namespace ferry
