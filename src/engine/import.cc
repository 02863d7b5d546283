// Engine::import_bundle, and the database-free inspect_bundle and verify_bundle.
#include <sys/stat.h>

#include <map>
#include <set>

#include "bundle/background_scan.h"
#include "bundle/format.h"
#include "bundle/reader.h"
#include "engine/engine_impl.h"
#include "identity/identity.h"
#include "exchange/pending.h"
#include "session/session.h"
#include "exchange/snapshot.h"
#include "exchange/importer.h"
#include "log/codec.h"
#include "trust/envelope.h"
#include "trust/store.h"
#include "util/files.h"
#include "util/uuid.h"

namespace ferry {
namespace {

using replica::store_clock;
using replica::stored_clock;

// Refuses, before it is applied, an operation that needs a table or column
// this database lacks. Remembers what it has checked, so the cost per
// operation is a lookup.
class SchemaCheck {
 public:
  SchemaCheck(const bundle::Reader& reader, const capture::Registry& tables, const std::string& db_path)
      : reader_(reader), tables_(tables), db_path_(db_path) {}

  void check(const Operation& op) {
    auto it = checked_.find(op.table);
    if (it == checked_.end()) it = checked_.emplace(op.table, table(op.table)).first;
    for (const auto& c : op.columns)
      if (it->second.count(c.name) == 0)
        throw Error(Errc::refused, reader_.path() + ": writes column '" + printable(c.name) + "' of table '" +
                                       printable(op.table) + "', which " + db_path_ + " lacks (a peer added it); run "
                                       "the same ALTER TABLE " + printable(op.table) + " ADD COLUMN and `ferry track " +
                                       db_path_ + " " + printable(op.table) +
                                       "`, then import again. Nothing was imported.");
  }

 private:
  std::set<std::string> table(const std::string& name) const {
    const capture::TrackedTable* t = tables_.find(name);
    if (t == nullptr || !t->tracked)
      throw Error(Errc::refused, reader_.path() + ": writes table '" + printable(name) + "', which " + db_path_ +
                                     " does not track; create it with the same schema and run `ferry track " +
                                     db_path_ + " " + printable(name) + "`, then import again. Nothing was imported.");
    for (const auto& info : reader_.info().tables)
      if (info.name == name && info.key != t->key_names())
        throw Error(Errc::refused, reader_.path() + ": table '" + printable(name) +
                                       "' has a different primary key here than on the device that wrote the bundle");
    return std::set<std::string>(t->columns.begin(), t->columns.end());
  }

  const bundle::Reader& reader_;
  const capture::Registry& tables_;
  const std::string& db_path_;
  std::map<std::string, std::set<std::string>> checked_;  // Table -> its columns here.
};

// Refuses a bundle after which this device's next operation would carry a
// clock naming more devices than any reader accepts (format 3 carries the
// whole clock in every operation): once sealed, such an operation could never
// be sent. The import rolls back; the device goes on as before.
void refuse_unsealable_clock(session::Session& s, const std::string& bundle) {
  VectorClock next = s.devices.clock();
  if (next.get(s.self) == 0) next.set(s.self, 1);
  if (next.entries().size() <= log::kMaxArray) return;
  throw Error(Errc::refused, bundle + ": brings operations of so many devices that this database would know " +
                                 std::to_string(next.entries().size()) + " devices that wrote, more than the " +
                                 std::to_string(log::kMaxArray) + " an operation's clock can name in bundle format 3, "
                                 "so nothing it sealed afterwards could be sent. Nothing was imported.");
}

// Everything import does inside its transaction.
ImportSummary apply_bundle(sql::Database& db, const DeviceId& self, bundle::Reader& reader, const Progress& progress) {
  const std::size_t total = reader.info().operations;
  std::size_t done = 0;
  sql::Transaction tx(db);
  session::Session s(db, self);
  // Every device that signed something in the bundle must be one this database trusts, with the key it knows.
  trust::Store store(db);
  const auto newly_trusted = store.admit(reader.info(), reader.path(), s.devices);
  store.remember_heads(reader.info(), s.devices, self);
  // Before anything is sealed: a bundle showing more of this device's chain than this database means a copy.
  identity::check_own_chain(reader.info(), s.devices.ensure(self), s.log, reader.path(), db.path());
  s.seal();  // Local changes take part in conflict detection.
  auto last_conflict = db.prepare("SELECT ifnull(max(id), 0) FROM ferry_conflicts");
  last_conflict.step();
  const std::int64_t conflicts_before = last_conflict.integer(0);
  s.tables.suspend_triggers();  // Rows written by the import are not captured again.
  SchemaCheck schema(reader, s.tables, db.path());
  exchange::Importer importer(s, reader.path());
  // One pass: every operation is verified (hash, encoding, chain, range) -- on a
  // second thread, while earlier ones are applied here -- before it is offered; the
  // content hash is checked after the last one. All of it runs in this transaction,
  // so a bundle that fails anywhere leaves the database untouched.
  if (reader.info().snapshot) {
    exchange::import_snapshot(s, reader, [&](const Operation& op) { schema.check(op); }, importer);
  } else {
    bundle::scan_in_background(reader, [&](const Operation& op, std::string_view body, const Hash& hash) {
      schema.check(op);
      importer.offer(op, body, hash);
      if (progress && (++done % 4096 == 0 || done == total)) progress(done, total);
    });
  }
  importer.drain();
  s.tables.restore_triggers();
  refuse_unsealable_clock(s, reader.path());
  const BundleInfo& info = reader.info();
  if (info.exporter != self) {
    replica::Device& exporter = s.devices.ensure(info.exporter);
    VectorClock announced = stored_clock(db, "announced_clock", exporter.no);
    announced.merge(info.clock);
    // What a peer has only steers what is sent to it: past the limit a clock
    // can hold, the newest announcement alone (sending more is harmless).
    if (announced.entries().size() > log::kMaxArray) announced = info.clock;
    store_clock(db, "announced_clock", "announced_ms", exporter.no, announced);
    if (exporter.name.empty() && !info.exporter_name.empty()) {
      auto st = db.prepare("UPDATE ferry_devices SET name=? WHERE no=?");
      st.bind(1, info.exporter_name).bind(2, exporter.no);
      st.run();
      exporter.name = info.exporter_name;
    }
  }
  s.finish();
  ImportSummary summary = importer.summary();
  // Conflicts this import opened that are still open (one opened and closed by the same bundle is not news).
  auto opened = db.prepare("SELECT count(*) FROM ferry_conflicts WHERE id > ? AND closed_ms IS NULL");
  opened.bind(1, conflicts_before);
  opened.step();
  summary.conflicts = static_cast<std::size_t>(opened.integer(0));
  // Foreign keys are not enforced while merging (the order of arrival would decide);
  // what the merged data leaves dangling is counted so that it is not silent.
  for (const auto* t : s.tables.tracked()) {
    auto fk = db.prepare("SELECT count(*) FROM pragma_foreign_key_check(?)");
    fk.bind(1, t->name);
    if (fk.step()) summary.foreign_key_violations += static_cast<std::size_t>(fk.integer(0));
  }
  summary.missing = exchange::pending_state(db, s.devices).missing;
  summary.newly_trusted = newly_trusted;
  tx.commit();
  return summary;
}

// Keeps the evidence of a forked history (both operations) and flags the device.
void record_fork(sql::Database& db, const exchange::Fork& fork, const std::string& path) {
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

// Keeps what an import refused for (a bundle showing a copy of this device, or a
// forked chain), each in a transaction of its own: the import rolled back.
void keep_evidence(sql::Database& db, const Error& refusal, const std::string& path) {
  // If keeping it fails too, the refusal still says what was refused, and why the evidence is missing.
  const auto* reused = dynamic_cast<const identity::IdentityReused*>(&refusal);
  const auto* fork = dynamic_cast<const exchange::Fork*>(&refusal);
  try {
    if (reused != nullptr) identity::keep_reuse_evidence(db, path, *reused);  // Stops the seal until `reidentify`.
    if (fork != nullptr) record_fork(db, *fork, path);
  } catch (const Error& e) {
    throw Error(refusal.code(), std::string(refusal.what()) + " (Keeping the evidence failed: " + e.what() + ")");
  }
}

}  // namespace

ImportSummary Engine::import_bundle(const std::string& path, const Progress& progress) {
  // The file, its header, its SQLite structure, its schema and its signatures are
  // checked here; an encrypted bundle is decrypted first, with this device's key.
  identity::require_own_identity(impl_->db);
  bundle::Reader reader(path, [&](const std::string& sealed, const std::string& plain) {
    trust::open_envelope(sealed, plain, path, impl_->self, impl_->key_pair());
  });
  try {
    return apply_bundle(impl_->db, impl_->self, reader, progress);
  } catch (const Error& refusal) {
    if (refusal.code() != Errc::refused && refusal.code() != Errc::untrusted) throw;
    // The import rolled back. It may have stopped at a stated clock, a range or an
    // operation before the content hash was checked at the end: a refusal, and
    // the evidence it keeps for good, is believed only of a bundle that is what
    // its signers signed. A damaged one is Error(corrupt) here, and nothing is kept.
    reader.check_content();
    keep_evidence(impl_->db, refusal, path);
    throw;
  }
}

bool looks_like_bundle(const std::string& path) {
  const std::string header = util::read_head(path, 72);
  if (header.compare(0, 8, "FERRYENC") == 0) return true;  // Encrypted (trust/envelope.h).
  if (header.size() < 72 || header.compare(0, 16, std::string("SQLite format 3\0", 16)) != 0) return false;
  std::uint32_t app_id = 0;  // Big-endian at offset 68 of the SQLite header (bundle/format.h).
  for (int i = 68; i < 72; ++i) app_id = app_id << 8 | static_cast<std::uint8_t>(header[static_cast<std::size_t>(i)]);
  return app_id == static_cast<std::uint32_t>(bundle::kApplicationId);
}

BundleInfo inspect_bundle(const std::string& path) {
  if (const auto envelope = trust::peek_envelope(path, path)) {
    BundleInfo info;  // Only what an encrypted bundle shows anyone.
    info.encrypted_for = envelope->recipient;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) info.bytes = static_cast<std::uint64_t>(st.st_size);
    return info;
  }
  return bundle::Reader(path).info();
}

VerifyReport verify_bundle(const std::string& path) {
  VerifyReport report;
  try {
    bundle::Reader reader(path);
    std::set<DeviceId> devices;
    reader.scan([&](const Operation& op, std::string_view, const Hash&) {
      ++report.operations;
      devices.insert(op.origin);
    });
    report.devices = devices.size();
  } catch (const Error& e) {
    if (e.code() != Errc::corrupt && e.code() != Errc::untrusted) throw;
    report.ok = false;
    report.first_failure = e.what();
  }
  return report;
}

}  // namespace ferry
