#include "engine/pending.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "log/codec.h"

namespace ferry::engine {

std::vector<DeviceId> pending_devices(sql::Database& db) {
  std::vector<DeviceId> out;
  auto next = db.prepare("SELECT origin FROM ferry_pending WHERE origin > ? ORDER BY origin LIMIT 1");
  std::string after;  // The empty BLOB sorts before every origin.
  for (;;) {
    next.bind_blob(1, after.data(), after.size());
    if (!next.step()) break;
    const std::string_view id = next.blob_view(0);
    DeviceId device;
    if (id.size() != device.bytes.size()) throw Error(Errc::corrupt, db.path() + ": ferry_pending holds a malformed origin");
    std::memcpy(device.bytes.data(), id.data(), id.size());
    out.push_back(device);
    after.assign(id.data(), id.size());
    next.reset();
  }
  return out;
}

std::optional<PendingOperation> first_pending(sql::Database& db, const DeviceId& device) {
  auto st = db.prepare("SELECT hash, body FROM ferry_pending WHERE origin = ? ORDER BY seq LIMIT 1");
  st.bind_blob(1, device.bytes.data(), device.bytes.size());
  if (!st.step()) return std::nullopt;
  PendingOperation p;
  p.body = std::string(st.blob_view(1));
  p.op = log::decode(p.body, db.path() + ": pending operation");
  p.hash = log::hash_of(p.body);
  const std::string_view stored = st.blob_view(0);
  if (stored.size() != p.hash.size() || std::memcmp(stored.data(), p.hash.data(), p.hash.size()) != 0)
    throw Error(Errc::corrupt, db.path() + ": pending operation " + std::to_string(p.op.seq) + " of device " +
                                   device.to_string() + " does not match its hash");
  return p;
}

PendingState pending_state(sql::Database& db, const Devices& devices) {
  PendingState state;
  auto count = db.prepare("SELECT count(*) FROM ferry_pending");
  count.step();
  state.operations = static_cast<std::size_t>(count.integer(0));
  if (state.operations == 0) return state;
  const VectorClock heads = devices.clock();
  const std::vector<DeviceId> waiting = pending_devices(db);
  std::map<DeviceId, std::uint64_t> needed;  // Of devices with nothing pending: up to which seq.
  for (const DeviceId& device : waiting) {
    const auto first = first_pending(db, device);
    if (!first) continue;
    const std::uint64_t head = heads.get(device);
    if (first->op.seq > head + 1) {
      state.missing.push_back(SeqRange{device, head + 1, first->op.seq - 1});
      continue;
    }
    for (const auto& [other, seq] : first->op.clock.entries()) {
      if (other == device || seq <= heads.get(other)) continue;
      if (std::binary_search(waiting.begin(), waiting.end(), other)) continue;  // Its own first says what it lacks.
      needed[other] = std::max(needed[other], seq);
    }
  }
  for (const auto& [device, seq] : needed) state.missing.push_back(SeqRange{device, heads.get(device) + 1, seq});
  std::sort(state.missing.begin(), state.missing.end(),
            [](const SeqRange& a, const SeqRange& b) { return a.device < b.device || (a.device == b.device && a.first < b.first); });
  return state;
}

}  // namespace ferry::engine
