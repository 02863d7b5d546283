#include "exchange/export.h"

#include <sys/stat.h>

#include <algorithm>

#include "bundle/reader.h"
#include "exchange/pending.h"
#include "log/codec.h"
#include "log/peer_clocks.h"
#include "log/store.h"
#include "trust/envelope.h"

namespace ferry::exchange {
namespace {

// Writes the planned delta ranges, each checked against its chain: a damaged log
// is caught here, by name, rather than by whoever imports the bundle.
void write_ranges(session::Session& s, const BundleInfo& info, bundle::Writer& writer,
                  const std::function<void()>& wrote_one) {
  sql::Database& db = s.db;
  log::ChainReader chains(db);
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    const SeqRange& r = info.ranges[i];
    std::uint64_t expect = r.first;
    Hash prev = info.prerequisites[i];
    auto damaged = [&](const std::string& what) {
      return Error(Errc::corrupt, db.path() + ": operation " + std::to_string(expect) + " of device " +
                                      r.device.to_string() + " " + what + " (`ferry verify` says more). No bundle "
                                      "was written.");
    };
    auto add = [&](std::uint64_t seq, std::string_view body) {
      if (seq != expect || !log::links_to(body, prev))
        throw damaged("in this database's log is missing or does not continue its chain (the log was changed behind "
                      "ferry's back)");
      prev = log::hash_of(body);
      writer.add(r.device, seq, prev, body);
      ++expect;
      wrote_one();
    };
    // What the log holds, then what waits here after it (export_plan.cc, relay_end).
    const replica::Device& d = *s.devices.find(r.device);
    const std::uint64_t held = std::min(r.last, d.head_seq);
    if (r.first <= held) chains.read(d.no, r.first, held, add);
    // The range may start inside the pending run, where the peer's part of the chain ends.
    if (r.last > held && expect > held)
      for_each_pending_run(db, r.device, expect - 1, r.last, true, [&](std::uint64_t seq, std::string_view hash, std::string_view body) {
        const Hash computed = log::hash_of(body);
        if (hash != std::string_view(reinterpret_cast<const char*>(computed.data()), computed.size()))
          throw damaged("waiting here (ferry_pending) does not match its hash");
        add(seq, body);
      });
    if (expect != r.last + 1) throw damaged("is missing from this database's log");
  }
}

}  // namespace

BundleExport::BundleExport(session::Session& s, ExportPlan plan, const trust::KeyPair& keys, const std::string& path,
                           const Progress& progress)
    : plan_(std::move(plan)), path_(path) {
  // An encrypted bundle is written plain into a private folder first; so is
  // one for a carrier's file system, and then copied in (util/files.h).
  if (plan_.encrypt_for) folder_.emplace("for the bundle to encrypt");
  else if (util::on_carrier_filesystem(path)) folder_.emplace("for the bundle to copy to " + util::folder_of(path));
  plain_ = folder_ ? folder_->file("bundle") : path;
  writer_ = std::make_unique<bundle::Writer>(plain_, plan_.info, keys, plan_.also_named);
  const std::size_t total = plan_.info.operations;
  std::size_t written = 0;
  auto wrote_one = [&] {
    if (progress && (++written % 4096 == 0 || written == total)) progress(written, total);
  };
  for (const auto& [origin, seq] : plan_.snapshot) {
    const auto body = s.log.body(origin, seq);
    if (!body)
      throw Error(Errc::corrupt, s.db.path() + ": the merge state refers to operation " + std::to_string(seq) +
                                     " of device " + origin.to_string() + ", which the log does not hold (`ferry "
                                     "verify` says more). No bundle was written.");
    writer_->add(origin, seq, log::hash_of(*body), *body);
    wrote_one();
  }
  if (!plan_.info.snapshot) write_ranges(s, plan_.info, *writer_, wrote_one);
  if (plan_.info.snapshot && plan_.info.format_major >= 4) {
    // The causal index of every chain up to its head: the receiver holds the
    // chains only from the snapshot on, and the index answers for what came before.
    // Not of a chain withheld from the peer (whose deps name only its scope's and shared chains).
    auto rows = s.db.prepare("SELECT chain, dep, seq, dep_seq FROM ferry_deps");
    while (rows.step())
      if (const DeviceId& chain = s.devices.by_no(rows.integer(0)).id; !plan_.withholds(chain))
        writer_->add_causal_row(chain, s.devices.by_no(rows.integer(1)).id, static_cast<std::uint64_t>(rows.integer(2)),
                                static_cast<std::uint64_t>(rows.integer(3)));
  }
  plan_.info = writer_->finish();
}

std::uint64_t BundleExport::own_head_carried() const {
  std::uint64_t own = 0;
  for (const SeqRange& r : plan_.info.ranges)
    if (r.device == plan_.info.exporter) own = std::max(own, r.last);
  return own;
}

std::vector<std::pair<DeviceId, std::uint64_t>> BundleExport::own_scoped_heads_carried() const {
  std::vector<std::pair<DeviceId, std::uint64_t>> out;
  for (const ScopedChain& c : plan_.info.scoped_chains) {
    if (c.device != plan_.info.exporter) continue;
    for (const SeqRange& r : plan_.info.ranges)
      if (r.device == c.chain) out.emplace_back(c.chain, r.last);
  }
  return out;
}

void BundleExport::retarget(const std::string& path) {
  path_ = path;
  if (!folder_) plain_ = path;
  if (!folder_) writer_->retarget(path);
}

void BundleExport::start_read_back() {
  // Every byte of every operation against the content hash; the operations came from this verified log.
  read_back_ = std::async(std::launch::async, [w = writer_.get()] {
    util::sync_path(w->written(), "bundle");  // Here, so that publishing has little left to wait for.
    bundle::Reader check(w->written());
    check.check_content();
  });
}

void BundleExport::publish() {
  try {
    read_back_.get();
  } catch (const Error& e) {
    throw Error(Errc::database, path_ + ": the bundle failed its read-back from the disk, so it was not written (" +
                                    e.what() + ")");
  }
  writer_->publish();
  if (plan_.encrypt_for) {
    trust::seal_envelope(plain_, path_, plan_.encrypt_for->first, plan_.encrypt_for->second);
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0) plan_.info.bytes = static_cast<std::uint64_t>(st.st_size);
  } else if (folder_) {
    util::copy_file_atomically(plain_, path_, "bundle");
  }
}

void BundleExport::note_exported(sql::Database& db, const replica::Devices& devices) {
  try {
    sql::Transaction note(db);
    auto written = db.prepare("INSERT OR IGNORE INTO ferry_written(bundle_id, written_ms) VALUES(?, ?)");
    written.bind_blob(1, plan_.info.bundle_id.bytes.data(), 16).bind(2, plan_.info.created_ms);
    written.run();
    if (plan_.peer != nullptr)
      log::store_clock(db, devices, "exported_clock", "exported_ms", plan_.peer->no, plan_.whole_clock, plan_.info.bundle_id);
    note.commit();
  } catch (const Error& e) {
    throw Error(e.code(), path_ + ": the bundle is complete and verified, but recording the export" +
                              (plan_.peer ? " to " + plan_.peer->id.to_string() : std::string()) +
                              " failed, so `ferry status` will not show it: " + e.what());
  }
}

bool wrote(sql::Database& db, const OperationId& bundle_id) {
  auto st = db.prepare("SELECT 1 FROM ferry_written WHERE bundle_id=?");
  st.bind_blob(1, bundle_id.bytes.data(), 16);
  return st.step();
}

ExportSummary BundleExport::summary(std::vector<HeldRow> held) const {
  const BundleInfo& info = plan_.info;
  ExportSummary summary;
  summary.path = path_;
  summary.bundle_id = info.bundle_id;
  summary.operations = info.operations - plan_.receipts.size();
  for (const SeqRange& r : info.ranges)
    if (std::find(plan_.receipts.begin(), plan_.receipts.end(), r.device) == plan_.receipts.end())
      summary.ranges.push_back(r);
  summary.receipt = !plan_.receipts.empty();
  summary.carried = info.operations;
  summary.bytes = info.bytes;
  if (plan_.encrypt_for) summary.encrypted_for = plan_.encrypt_for->first;
  summary.held = std::move(held);
  return summary;
}

}  // namespace ferry::exchange
