// Engine::export_bundle: the operations a peer lacks, each range vouched for by
// its origin's signature, the whole signed by this device, optionally encrypted
// and cut into parts of a size (exchange/export_parts.h).
#include "capture/held.h"
#include "engine/engine_impl.h"
#include "exchange/export.h"
#include "exchange/export_parts.h"
#include "identity/identity.h"
#include "identity/reissue.h"
#include "trust/store.h"

namespace ferry {

ExportSummary Engine::export_bundle(const std::string& path, const ExportOptions& options) {
  return export_parts(path, options, false).front();
}

std::vector<ExportSummary> Engine::export_bundles(const std::string& path, const ExportOptions& options) {
  return export_parts(path, options, true);
}

std::vector<ExportSummary> Engine::export_parts(const std::string& path, const ExportOptions& options, bool split) {
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
  const exchange::ExportPlan plan = exchange::plan_export(s, store, keys, impl_->name, options);
  if (options.only_news && exchange::nothing_new(s, plan, options.on_its_way)) {
    tx.commit();  // The seal, if any (then the clock changed, and this is not reached).
    ExportSummary none;
    none.written = false;
    none.held = std::move(held);
    return {none};
  }
  auto parts = exchange::write_parts(s, store, keys, plan, path, options, split);
  for (std::size_t k = 0; k < parts.size() && parts.size() > 1; ++k) {
    const std::string named = part_path(path, k + 1, parts.size());
    check_output(named, "bundle");
    parts[k]->retarget(named);
  }
  // Committed with the seal: what may have left cannot be made again (reidentify).
  for (const auto& out : parts) {
    identity::note_sent(db, out->own_head_carried());
    for (const auto& [chain, last] : out->own_scoped_heads_carried()) identity::note_sent(db, chain, last);
    out->start_read_back();
  }
  // The bundle appears only once every operation it carries is kept here. Were it
  // published first, a crash before this commit would roll the seal back, and sealing
  // the same changes again would make different operations under the same numbers:
  // a fork, to everyone who imported the bundle.
  tx.commit();
  for (const auto& out : parts) out->publish();
  for (const auto& out : parts) out->note_exported(db, s.devices);
  std::vector<ExportSummary> summaries;
  for (const auto& out : parts) summaries.push_back(out->summary(held));
  return summaries;
}

bool Engine::wrote(const OperationId& bundle_id) { return exchange::wrote(impl_->db, bundle_id); }

std::string part_path(const std::string& path, std::size_t k, std::size_t n) {
  const std::string tag = "-" + std::to_string(k) + "of" + std::to_string(n);
  const std::string ext = ".ferry";
  const bool has_ext = path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0 &&
                       path[path.size() - ext.size() - 1] != '/';
  return has_ext ? path.substr(0, path.size() - ext.size()) + tag + ext : path + tag;
}

}  // namespace ferry
