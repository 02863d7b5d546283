#include "engine/snapshot.h"

#include <algorithm>

#include "log/codec.h"
#include "merge/row_meta.h"
#include "merge/row_store.h"

namespace ferry::engine {
namespace {

// Every operation some cell's frontier holds: what the current state depends on
// (merge/merger.h). Sorted by (origin, seq), as bundles store operations.
OperationKeys snapshot_operations(Session& s) {
  OperationKeys out;
  merge::RowStore::for_each(s.db, [&](const merge::RowMeta& meta) {
    auto add = [&](const merge::Frontier& f) {
      for (const auto& stamp : f) out.emplace(s.devices.by_no(stamp.device).id, stamp.seq);
    };
    add(meta.exist);
    for (const auto& [column, f] : meta.cols) add(f);
  });
  return out;
}

}  // namespace

OperationKeys add_snapshot(Session& s, BundleInfo& info) {
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

void import_snapshot(Session& s, bundle::Reader& reader, const std::function<void(const Operation&)>& check,
                     import::Importer& importer) {
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
    check(op);
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

}  // namespace ferry::engine
