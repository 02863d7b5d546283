#include "exchange/snapshot.h"

#include <algorithm>
#include <cstring>

#include "log/codec.h"
#include "merge/row_meta.h"
#include "merge/row_store.h"
#include "merge/rules.h"

namespace ferry::exchange {
namespace {

// Every operation some cell's frontier holds: what the current state depends on
// (merge/merger.h). Sorted by (origin, seq), as bundles store operations.
OperationKeys snapshot_operations(session::Session& s) {
  OperationKeys out;
  merge::RowStore::for_each(s.db, [&](const merge::RowStates& states) {
    auto add = [&](const merge::Frontier& f) {
      for (const auto& stamp : f) out.emplace(s.devices.by_no(stamp.device).id, stamp.seq);
    };
    for (const merge::RowMeta& meta : states) {
      add(meta.exist);
      for (const auto& [column, f] : meta.cols) add(f);
    }
  });
  return out;
}

}  // namespace

OperationKeys add_snapshot(session::Session& s, BundleInfo& info, const std::function<bool(const DeviceId&)>& carried) {
  info.snapshot = true;
  for (const auto& [device, head] : info.clock.entries()) {
    if (!carried(device)) continue;
    info.ranges.push_back(SeqRange{device, head, head});
    info.prerequisites.push_back(Hash{});
    info.last_hashes.push_back(s.devices.head_hash(*s.devices.find(device)));
  }
  auto operations = snapshot_operations(s);
  for (auto it = operations.begin(); it != operations.end();) it = carried(it->first) ? std::next(it) : operations.erase(it);
  if (const auto& admin = s.fleet.administrator())  // Every grant as made (bundle_format/README.md §17).
    for (std::uint64_t seq : s.fleet.grant_operations()) operations.emplace(*admin, seq);
  info.operations = operations.size();
  return operations;
}

void import_snapshot(session::Session& s, bundle::Reader& reader, const std::function<void(const Operation&)>& check,
                     exchange::Importer& importer) {
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
  // Applied in (Lamport time, origin) order: sorted on disk, in a private
  // temporary database, so memory does not grow with the snapshot.
  sql::Database scratch("", sql::Database::Mode::create);
  scratch.exec("CREATE TABLE held(lamport INTEGER, origin BLOB, seq INTEGER, hash BLOB, body BLOB, "
               "PRIMARY KEY(lamport, origin, seq)) WITHOUT ROWID");
  {
    sql::Transaction fill(scratch);
    auto add = scratch.prepare("INSERT INTO held VALUES(?, ?, ?, ?, ?)");
    reader.scan([&](const Operation& op, std::string_view body, const Hash& hash) {
      check(op);
      add.bind(1, static_cast<std::int64_t>(op.lamport))
          .bind_blob_view(2, op.origin.bytes.data(), 16)
          .bind(3, static_cast<std::int64_t>(op.seq))
          .bind_blob_view(4, hash.data(), hash.size())
          .bind_blob_view(5, body.data(), body.size());
      add.run();
    });
    fill.commit();
  }
  // A 4.0 snapshot brings the causal index of its chains up to their heads,
  // which the operations of format 2 it carries must agree with; a 3.0 one's
  // operations carry their whole clocks, recorded as they come.
  const bool rows = info.format_major >= 4;
  if (rows)
    reader.causal_rows([&](const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq) {
      s.devices.ensure(dep);
      s.log.add_index_row(chain, dep, seq, dep_seq);
    });
  auto held = scratch.prepare(std::string("SELECT hash, body FROM held ORDER BY ") + merge::kCausalOrderSql + ", seq");
  while (held.step()) {
    const std::string body(held.blob_view(1));
    const Operation op = log::decode(body, reader.path() + ": snapshot operation", log::kNewestOperationFormat);
    Hash hash{};
    std::memcpy(hash.data(), held.blob_view(0).data(), hash.size());
    for (const auto& entry : op.clock.entries()) s.devices.ensure(entry.first);
    if (rows)
      if (std::string why = s.log.index_disagrees(op); !why.empty())
        throw Error(Errc::corrupt, reader.path() + ": operation " + std::to_string(op.seq) + " of device " +
                                       op.origin.to_string() + " disagrees with the snapshot's causal rows: " + why);
    s.log.add_base(op, hash, body, /*record=*/!rows);
    importer.apply_from_snapshot(op);
  }
}

}  // namespace ferry::exchange
