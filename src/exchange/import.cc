#include "exchange/import.h"

#include "bundle/background_scan.h"
#include "exchange/importer.h"
#include "exchange/pending.h"
#include "exchange/purge.h"
#include "exchange/schema_check.h"
#include "log/stored_chains.h"
#include "exchange/snapshot.h"
#include "identity/identity.h"
#include "log/codec.h"
#include "log/peer_clocks.h"
#include "merge/conflicts.h"
#include "replica/meta.h"
#include "session/session.h"
#include "trust/store.h"
#include "util/uuid.h"

namespace ferry::exchange {
namespace {

// Step 4.
void apply_operations(session::Session& s, bundle::Reader& reader, Importer& importer, const Progress& progress) {
  SchemaCheck schema(reader, s.tables, s.db.path());
  s.tables.suspend_triggers();  // Rows written by the import are not captured again.
  if (reader.info().snapshot) {
    import_snapshot(s, reader, [&](const Operation& op) { schema.check(op); }, importer);
  } else {
    const std::size_t total = reader.info().operations;
    std::size_t done = 0;
    bundle::scan_in_background(reader, [&](const Operation& op, std::string_view body, const Hash& hash) {
      schema.check(op);
      importer.offer(op, body, hash);
      if (progress && (++done % 4096 == 0 || done == total)) progress(done, total);
    });
  }
  importer.drain();
  s.tables.restore_triggers();
}

// Step 5. Operation format 1 carries the whole clock: on a device that seals
// it for ferry 3.x peers (Engine::set_ferry3_compatible), past the number of
// devices such a clock may name, an operation sealed here could never be
// sent. The import rolls back; the device goes on as before. Format 2 has no
// such limit.
void refuse_unsealable_clock(session::Session& s, const std::string& bundle) {
  if (replica::get_meta_count(s.db, replica::kSealFormatKey, 2) != 1) return;
  VectorClock next = s.devices.clock();
  if (next.get(s.self) == 0) next.set(s.self, 1);
  if (next.entries().size() <= log::kMaxArray) return;
  throw Error(Errc::refused, bundle + ": brings operations of so many devices that this database would know " +
                                 std::to_string(next.entries().size()) + " devices that wrote, more than the " +
                                 std::to_string(log::kMaxArray) + " an operation's clock can name in bundle format 3, "
                                 "so nothing it sealed afterwards could be sent. Nothing was imported. Once every peer "
                                 "runs ferry 4, `ferry compat DB 4` lifts the limit.");
}

// The exporter's whole clock, and whether it is whole: a 4.1 bundle's clock
// says only what differs from the clock this database exported to it in the
// reference bundle (bundle_format/README.md §4). When that is not the export
// kept here, the entries given are all that is known: the exporter is then
// believed to hold less than it may, which can only make this database send
// it something twice.
std::pair<VectorClock, bool> exporter_clock(session::Session& s, const replica::Device& exporter, const BundleInfo& info) {
  if (!info.reference) return {info.clock, true};
  if (log::stored_reference(s.db, "exported_clock", exporter.no) != info.reference) return {info.clock, false};
  VectorClock whole = log::stored_clock(s.db, s.devices, "exported_clock", exporter.no);
  for (const DeviceId& device : info.clock_dropped) whole.set(device, 0);
  for (const auto& [device, seq] : info.clock.entries()) whole.set(device, seq);
  return {whole, true};
}

// Step 6.
void note_exporter(session::Session& s, const BundleInfo& info) {
  if (info.exporter == s.self) return;
  replica::Device& exporter = s.devices.ensure(info.exporter);
  const auto [clock, whole] = exporter_clock(s, exporter, info);
  VectorClock announced = log::stored_clock(s.db, s.devices, "announced_clock", exporter.no);
  announced.merge(clock);
  // What a peer has only steers what is sent to it: past the limit a clock
  // can hold, the newest announcement alone (sending more is harmless).
  if (announced.entries().size() > log::kMaxChains) announced = clock;
  // Kept as this bundle's when it is exactly its whole clock and the bundle
  // was written for this device, which the exporter then keeps (log/peer_clocks.h):
  // a bundle for the exporter may be written against it.
  const bool exact = whole && announced == clock && info.addressee == s.self;
  log::store_clock(s.db, s.devices, "announced_clock", "announced_ms", exporter.no, announced,
                   exact ? std::optional<OperationId>(info.bundle_id) : std::nullopt);
  if (exporter.name.empty() && !info.exporter_name.empty()) s.devices.rename(exporter, info.exporter_name);
}

// Step 6 too: the bundle, by id and content hash, so that a folder read again
// (ferry sync) passes over it (imported()).
void note_imported(sql::Database& db, const BundleInfo& info) {
  auto st = db.prepare("INSERT OR REPLACE INTO ferry_imported(bundle_id, content_hash, imported_ms) VALUES(?, ?, ?)");
  st.bind_blob(1, info.bundle_id.bytes.data(), 16).bind_blob(2, info.content_hash.data(), 32).bind(3, util::now_ms());
  st.run();
}

}  // namespace

bool imported(sql::Database& db, const OperationId& bundle_id, const Hash& content_hash) {
  auto st = db.prepare("SELECT 1 FROM ferry_imported WHERE bundle_id=? AND content_hash=?");
  st.bind_blob(1, bundle_id.bytes.data(), 16).bind_blob(2, content_hash.data(), 32);
  return st.step();
}

namespace {

// Foreign keys are not enforced while merging (the order of arrival would decide);
// what the merged data leaves dangling is counted so that it is not silent.
std::size_t dangling_references(session::Session& s) {
  std::size_t n = 0;
  for (const auto* t : s.tables.tracked()) {
    auto fk = s.db.prepare("SELECT count(*) FROM pragma_foreign_key_check(?)");
    fk.bind(1, t->name);
    if (fk.step()) n += static_cast<std::size_t>(fk.integer(0));
  }
  return n;
}

// Keeps the evidence of a forked history (both operations) and flags the device.
void record_fork(sql::Database& db, const Fork& fork, const std::string& path) {
  sql::Transaction tx(db);
  replica::Devices devices(db);
  log::Store log(db, devices);
  ForkEvidence e;
  e.device = fork.device;
  e.seq = fork.seq;
  e.held_hash = fork.held;
  e.held_body = log.body(fork.device, fork.seq).value_or("");
  if (e.held_body.empty()) {
    auto pending = db.prepare("SELECT body FROM ferry_pending WHERE origin=? AND seq=?");
    pending.bind_blob(1, fork.device.bytes.data(), 16).bind(2, static_cast<std::int64_t>(fork.seq));
    if (pending.step()) e.held_body = std::string(pending.blob_view(0));
  }
  e.other_hash = fork.other;
  e.other_body = fork.other_body;
  e.bundle = path;
  e.detected_ms = util::now_ms();
  trust::Store(db).record_fork(e);
  tx.commit();
}

}  // namespace

ImportSummary apply_bundle(sql::Database& db, const DeviceId& self, bundle::Reader& reader, const Progress& progress) {
  const BundleInfo& info = reader.info();
  sql::Transaction tx(db);
  session::Session s(db, self);
  trust::Store store(db);
  log::StoredChains chains(s.devices);  // Each chain of a scope known by its device and scope from here on.
  for (const ScopedChain& c : info.scoped_chains) chains.ensure(c.device, c.scope);
  const auto newly_trusted = store.admit(info, reader.path(), s.devices);                                // 1
  store.remember_heads(info, s.devices, self);
  identity::check_own_chain(info, s.devices.ensure(self), s.log, reader.path(), db.path());              // 2
  identity::check_own_scoped_chains(info, self, s.devices, s.log, reader.path(), db.path());
  s.seal();                                                                                              // 3
  const std::int64_t conflicts_before = merge::last_conflict_id(db);
  Importer importer(s, reader.path());
  apply_operations(s, reader, importer, progress);                                                       // 4
  refuse_unsealable_clock(s, reader.path());                                                             // 5
  note_exporter(s, info);                                                                                // 6
  note_imported(db, info);
  s.finish();                                                                                            // 7
  ImportSummary summary = importer.summary();
  summary.removed_scopes = remove_unreadable_scopes(s);                                                  // 8
  s.finish();
  summary.pending = count_pending(db);
  // Conflicts this import opened that are still open (one opened and closed by the same bundle is not news).
  summary.conflicts = merge::count_open(db, conflicts_before);
  summary.foreign_key_violations = dangling_references(s);
  summary.missing = pending_state(db, s.devices).missing;
  summary.newly_trusted = newly_trusted;
  tx.commit();
  return summary;
}

void keep_evidence(sql::Database& db, const Error& refusal, const std::string& path) {
  // If keeping it fails too, the refusal still says what was refused, and why the evidence is missing.
  const auto* reused = dynamic_cast<const identity::IdentityReused*>(&refusal);
  const auto* fork = dynamic_cast<const Fork*>(&refusal);
  try {
    if (reused != nullptr) identity::keep_reuse_evidence(db, path, *reused);  // Stops the seal until `reidentify`.
    if (fork != nullptr) record_fork(db, *fork, path);
  } catch (const Error& e) {
    throw Error(refusal.code(), std::string(refusal.what()) + " (Keeping the evidence failed: " + e.what() + ")");
  }
}

}  // namespace ferry::exchange
