// Engine::export_bundle: the operations a peer lacks, each range vouched for by
// its origin's signature, the whole signed by this device, optionally encrypted.
#include "capture/held.h"
#include "engine/engine_impl.h"
#include "exchange/export.h"
#include "identity/identity.h"
#include "identity/reissue.h"
#include "trust/store.h"

namespace ferry {

ExportSummary Engine::export_bundle(const std::string& path, const ExportOptions& options) {
  sql::Database& db = impl_->db;
  check_output(path, "bundle");
  identity::require_own_identity(db);
  sql::Transaction tx(db);
  session::Session s(db, impl_->self);
  s.seal();
  s.finish();
  std::vector<HeldRow> held = capture::Held::list(db, s.tables);  // Not in the bundle: said in the summary.
  trust::Store store(db);
  const trust::KeyPair& keys = impl_->key_pair();
  exchange::BundleExport out(s, exchange::plan_export(s, store, keys, impl_->name, options), keys, path,
                             options.progress);
  // Committed with the seal: what may have left cannot be made again (reidentify).
  identity::note_sent(db, out.own_head_carried());
  for (const auto& [chain, last] : out.own_scoped_heads_carried()) identity::note_sent(db, chain, last);
  out.start_read_back();
  // The bundle appears only once every operation it carries is kept here. Were it
  // published first, a crash before this commit would roll the seal back, and sealing
  // the same changes again would make different operations under the same numbers:
  // a fork, to everyone who imported the bundle.
  tx.commit();
  out.publish();
  out.note_exported(db, s.devices);
  return out.summary(std::move(held));
}

}  // namespace ferry
