// Engine::export_bundle and Engine::import_bundle, and the database-free
// inspect_bundle and verify_bundle.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "bundle/format.h"
#include "bundle/background_scan.h"
#include "bundle/reader.h"
#include "bundle/writer.h"
#include "engine/engine_impl.h"
#include "engine/pending.h"
#include "engine/session.h"
#include "import/importer.h"
#include "log/codec.h"
#include "merge/row_meta.h"
#include "merge/row_store.h"
#include "util/uuid.h"

namespace ferry {
namespace {

VectorClock stored_clock(sql::Database& db, const char* column, std::int64_t device_no) {
  auto st = db.prepare(std::string("SELECT ") + column + " FROM ferry_devices WHERE no=?");
  st.bind(1, device_no);
  if (!st.step() || st.is_null(0)) return {};
  const Bytes b = st.blob(0);
  return log::decode_clock(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), db.path() + ": ferry_devices");
}

void store_clock(sql::Database& db, const char* clock_column, const char* ms_column, std::int64_t device_no,
                 const VectorClock& clock) {
  const std::string enc = log::encode_clock(clock);
  auto st = db.prepare(std::string("UPDATE ferry_devices SET ") + clock_column + "=?, " + ms_column + "=? WHERE no=?");
  st.bind_blob(1, enc.data(), enc.size()).bind(2, util::now_ms()).bind(3, device_no);
  st.run();
}

// Every table this device has tracked, as bundles describe them.
std::vector<TableInfo> known_tables(const capture::Registry& tables, sql::Database& db) {
  std::vector<TableInfo> out;
  auto st = db.prepare("SELECT name FROM ferry_tables ORDER BY name");
  while (st.step())
    if (const auto* t = tables.find(st.text(0))) out.push_back(t->info());
  return out;
}

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
        throw Error(Errc::refused, reader_.path() + ": writes column '" + c.name + "' of table '" + op.table +
                                       "', which " + db_path_ + " lacks (a peer added it); run the same ALTER TABLE " +
                                       op.table + " ADD COLUMN and `ferry track " + db_path_ + " " + op.table +
                                       "`, then import again. Nothing was imported.");
  }

 private:
  std::set<std::string> table(const std::string& name) const {
    const capture::TrackedTable* t = tables_.find(name);
    if (t == nullptr || !t->tracked)
      throw Error(Errc::refused, reader_.path() + ": writes table '" + name + "', which " + db_path_ +
                                     " does not track; create it with the same schema and run `ferry track " +
                                     db_path_ + " " + name + "`, then import again. Nothing was imported.");
    for (const auto& info : reader_.info().tables)
      if (info.name == name && info.key != t->key_names())
        throw Error(Errc::refused, reader_.path() + ": table '" + name +
                                       "' has a different primary key here than on the device that wrote the bundle");
    return std::set<std::string>(t->columns.begin(), t->columns.end());
  }

  const bundle::Reader& reader_;
  const capture::Registry& tables_;
  const std::string& db_path_;
  std::map<std::string, std::set<std::string>> checked_;  // Table -> its columns here.
};

// Every operation some cell's frontier holds: what the current state depends on
// (merge/merger.h). Sorted by (origin, seq), as bundles store operations.
std::set<std::pair<DeviceId, std::uint64_t>> snapshot_operations(engine::Session& s) {
  std::set<std::pair<DeviceId, std::uint64_t>> out;
  merge::RowStore::for_each(s.db, [&](const merge::RowMeta& meta) {
    auto add = [&](const merge::Frontier& f) {
      for (const auto& stamp : f) out.emplace(s.devices.by_no(stamp.device).id, stamp.seq);
    };
    add(meta.exist);
    for (const auto& [column, f] : meta.cols) add(f);
  });
  return out;
}

// A snapshot's ranges are the chain heads; its operations, those the state depends on
// (returned, in the order the bundle stores them).
std::set<std::pair<DeviceId, std::uint64_t>> add_snapshot(engine::Session& s, BundleInfo& info) {
  info.snapshot = true;
  for (const auto& [device, head] : info.clock.entries()) {
    info.ranges.push_back(SeqRange{device, head, head});
    info.prerequisites.push_back(Hash{});
    info.last_hashes.push_back(s.devices.find(device)->head_hash);
  }
  auto operations = snapshot_operations(s);
  info.operations = operations.size();
  return operations;
}

// Bootstraps an empty device from a snapshot: chain bases at the heads, then the
// operations the state depends on, applied in Lamport order (which respects causality).
void import_snapshot(engine::Session& s, bundle::Reader& reader, SchemaCheck& schema, import::Importer& importer) {
  if (log::count_operations(s.db) > 0 || s.devices.clock().get(s.self) > 0)
    throw Error(Errc::refused, reader.path() + ": is a snapshot, which starts a new device; " + s.db.path() +
                                   " already holds operations, so import ordinary bundles into it instead");
  const BundleInfo& info = reader.info();
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    if (info.ranges[i].device == s.self)
      throw Error(Errc::refused, reader.path() + ": is a snapshot that already holds this device's own operations; "
                                                 "a snapshot can only start a device that is new to the others");
    s.devices.set_base(s.devices.ensure(info.ranges[i].device), info.ranges[i].last, info.last_hashes[i]);
  }
  struct Held {
    Operation op;
    std::string body;
    Hash hash;
  };
  std::vector<Held> held;
  reader.scan([&](const Operation& op, std::string_view body, const Hash& hash) {
    schema.check(op);
    held.push_back(Held{op, std::string(body), hash});
  });
  std::sort(held.begin(), held.end(), [](const Held& a, const Held& b) {
    return a.op.lamport != b.op.lamport ? a.op.lamport < b.op.lamport : a.op.origin < b.op.origin;
  });
  for (const auto& h : held) {
    s.log.add_base(h.op.origin, h.op.seq, h.hash, h.body);
    importer.apply_from_snapshot(h.op);
  }
}

}  // namespace

ExportSummary Engine::export_bundle(const std::string& path, const ExportOptions& options) {
  sql::Database& db = impl_->db;
  sql::Transaction tx(db);
  engine::Session s(db, impl_->self);
  s.seal();
  s.finish();

  const engine::Device* peer = nullptr;
  VectorClock has;  // What the peer is known to have.
  if (!options.peer.empty()) {
    if (auto id = Uuid::parse(options.peer); id && s.devices.find(*id) == nullptr) {
      peer = &s.devices.ensure(*id);  // A device never heard from: it gets everything.
    } else {
      peer = &s.devices.lookup(options.peer);
    }
    if (peer->id == impl_->self) throw Error(Errc::invalid_argument, "cannot export to this device itself");
    if (!options.all) has = stored_clock(db, "announced_clock", peer->no);
  } else if (!options.all && !options.since && !options.snapshot) {
    throw Error(Errc::invalid_argument, "say who the bundle is for (--peer) or export everything (--all)");
  }
  if (options.since) has = *options.since;

  BundleInfo info;
  info.format_major = bundle::kFormatMajor;
  info.format_minor = bundle::kFormatMinor;
  info.bundle_id = util::make_uuid_v7(util::now_ms());
  info.exporter = impl_->self;
  info.exporter_name = impl_->name;
  info.created_ms = util::now_ms();
  info.clock = s.devices.clock();
  std::set<std::pair<DeviceId, std::uint64_t>> snapshot;
  if (options.snapshot) {
    snapshot = add_snapshot(s, info);
  } else {
    for (const auto& [device, head] : info.clock.entries()) {
      const std::uint64_t from = has.get(device);
      if (head <= from) continue;
      const engine::Device& d = *s.devices.find(device);
      if (from < d.base_seq)
        throw Error(Errc::refused, "this database started from a snapshot and holds device " + device.to_string() +
                                       "'s operations only after " + std::to_string(d.base_seq) +
                                       "; the peer lacks earlier ones: send it a snapshot (ferry export --snapshot)");
      info.ranges.push_back(SeqRange{device, from + 1, head});
      info.prerequisites.push_back(from == 0 ? Hash{} : from == d.base_seq ? d.base_hash : *s.log.hash(device, from));
      info.last_hashes.push_back(d.head_hash);
      info.operations += head - from;
    }
  }
  info.tables = known_tables(s.tables, db);

  bundle::Writer writer(path, info);
  std::size_t written = 0;
  auto wrote_one = [&] {
    if (options.progress && (++written % 4096 == 0 || written == info.operations)) options.progress(written, info.operations);
  };
  for (const auto& [origin, seq] : snapshot) {
    const auto body = s.log.body(origin, seq);
    if (!body)
      throw Error(Errc::corrupt, db.path() + ": the merge state refers to operation " + std::to_string(seq) +
                                     " of device " + origin.to_string() + ", which the log does not hold (`ferry verify` "
                                     "says more). No bundle was written.");
    writer.add(origin, seq, log::hash_of(*body), *body);
    wrote_one();
  }
  auto ops = db.prepare("SELECT id, body FROM ferry_log WHERE id BETWEEN ? AND ? ORDER BY id");
  for (std::size_t i = 0; i < (info.snapshot ? 0 : info.ranges.size()); ++i) {
    const SeqRange& r = info.ranges[i];
    const std::int64_t no = s.devices.find(r.device)->no;
    ops.bind(1, log::log_id(no, r.first)).bind(2, log::log_id(no, r.last));
    std::uint64_t expect = r.first;
    Hash prev = info.prerequisites[i];
    while (ops.step()) {
      const auto body = ops.blob_view(1);
      const auto seq = static_cast<std::uint64_t>(ops.integer(0) - log::log_id(no, 0));
      // A damaged log is caught here, by name, rather than by whoever imports the bundle.
      if (seq != expect || !log::links_to(body, prev))
        throw Error(Errc::corrupt, db.path() + ": operation " + std::to_string(expect) + " of device " +
                                       r.device.to_string() + " in this database's log is missing or does not continue "
                                       "its chain (the log was changed behind ferry's back; `ferry verify` says more). "
                                       "No bundle was written.");
      prev = log::hash_of(body);
      writer.add(r.device, seq, prev, body);
      ++expect;
      wrote_one();
    }
    ops.reset();
    if (expect != r.last + 1)
      throw Error(Errc::corrupt, db.path() + ": operation " + std::to_string(expect) + " of device " +
                                     r.device.to_string() + " is missing from this database's log (`ferry verify` says "
                                     "more). No bundle was written.");
  }
  info = writer.finish();
  try {
    // Read back what reached the disk: every byte of every operation against the
    // content hash. The operations themselves came from this verified log.
    bundle::Reader check(path);
    check.check_content();
  } catch (const Error& e) {
    ::unlink(path.c_str());
    throw Error(Errc::database, path + ": the bundle read back from the disk does not verify, so it was removed (" +
                                    e.what() + ")");
  }
  if (peer != nullptr) store_clock(db, "exported_clock", "exported_ms", peer->no, info.clock);
  tx.commit();

  ExportSummary summary;
  summary.path = path;
  summary.bundle_id = info.bundle_id;
  summary.operations = info.operations;
  summary.ranges = info.ranges;
  summary.bytes = info.bytes;
  return summary;
}

ImportSummary Engine::import_bundle(const std::string& path, const Progress& progress) {
  bundle::Reader reader(path);  // The file, its header, its SQLite structure and its schema are checked here.
  const std::size_t total = reader.info().operations;
  std::size_t done = 0;
  sql::Database& db = impl_->db;
  sql::Transaction tx(db);
  engine::Session s(db, impl_->self);
  s.seal();  // Local changes take part in conflict detection.
  auto last_conflict = db.prepare("SELECT ifnull(max(id), 0) FROM ferry_conflicts");
  last_conflict.step();
  const std::int64_t conflicts_before = last_conflict.integer(0);
  s.tables.suspend_triggers();  // Rows written by the import are not captured again.
  SchemaCheck schema(reader, s.tables, db.path());
  import::Importer importer(s);
  // One pass: every operation is verified (hash, encoding, chain, range) -- on a
  // second thread, while earlier ones are applied here -- before it is offered; the
  // content hash is checked after the last one. All of it runs in this transaction,
  // so a bundle that fails anywhere leaves the database untouched.
  if (reader.info().snapshot) {
    import_snapshot(s, reader, schema, importer);
  } else {
    bundle::scan_in_background(reader, [&](const Operation& op, std::string_view body, const Hash& hash) {
      schema.check(op);
      importer.offer(op, body, hash);
      if (progress && (++done % 4096 == 0 || done == total)) progress(done, total);
    });
  }
  importer.drain();
  s.tables.restore_triggers();

  const BundleInfo& info = reader.info();
  if (info.exporter != impl_->self) {
    engine::Device& exporter = s.devices.ensure(info.exporter);
    VectorClock announced = stored_clock(db, "announced_clock", exporter.no);
    announced.merge(info.clock);
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
  summary.missing = engine::pending_state(db, s.devices).missing;
  tx.commit();
  return summary;
}

BundleInfo inspect_bundle(const std::string& path) { return bundle::Reader(path).info(); }

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
    if (e.code() != Errc::corrupt) throw;
    report.ok = false;
    report.first_failure = e.what();
  }
  return report;
}

}  // namespace ferry
