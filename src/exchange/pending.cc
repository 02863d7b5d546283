#include "exchange/pending.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "fleet/fleet.h"
#include "log/codec.h"

namespace ferry::exchange {

PendingReader::PendingReader(sql::Database& db)
    : db_(db),
      next_device_(db.prepare("SELECT origin FROM ferry_pending WHERE origin > ? ORDER BY origin LIMIT 1")),
      first_(db.prepare("SELECT hash, body FROM ferry_pending WHERE origin = ? ORDER BY seq LIMIT 1")) {}

std::vector<DeviceId> PendingReader::devices() {
  std::vector<DeviceId> out;
  std::string after;  // The empty BLOB sorts before every origin.
  for (;;) {
    next_device_.bind_blob(1, after.data(), after.size());
    if (!next_device_.step()) break;
    const std::string_view id = next_device_.blob_view(0);
    DeviceId device;
    if (id.size() != device.bytes.size()) throw Error(Errc::corrupt, db_.path() + ": ferry_pending holds a malformed origin");
    std::memcpy(device.bytes.data(), id.data(), id.size());
    out.push_back(device);
    after.assign(id.data(), id.size());
    next_device_.reset();
  }
  next_device_.reset();
  return out;
}

std::optional<PendingOperation> PendingReader::first(const DeviceId& device) {
  first_.bind_blob(1, device.bytes.data(), device.bytes.size());
  if (!first_.step()) {
    first_.reset();
    return std::nullopt;
  }
  PendingOperation p;
  p.body = std::string(first_.blob_view(1));
  const std::string stored(first_.blob_view(0));
  first_.reset();
  p.op = log::decode(p.body, db_.path() + ": pending operation", log::kNewestOperationFormat);
  p.hash = log::hash_of(p.body);
  if (stored.size() != p.hash.size() || std::memcmp(stored.data(), p.hash.data(), p.hash.size()) != 0)
    throw Error(Errc::corrupt, db_.path() + ": pending operation " + std::to_string(p.op.seq) + " of device " +
                                   device.to_string() + " does not match its hash");
  return p;
}

void for_each_pending_run(sql::Database& db, const DeviceId& device, std::uint64_t after, std::uint64_t last,
                          bool bodies, const PendingVisitor& visit) {
  auto st = db.prepare(std::string("SELECT seq, hash") + (bodies ? ", body" : ", x''") +
                       " FROM ferry_pending WHERE origin = ? AND seq > ? AND seq <= ? ORDER BY seq");
  st.bind_blob(1, device.bytes.data(), device.bytes.size())
      .bind(2, static_cast<std::int64_t>(after))
      .bind(3, static_cast<std::int64_t>(std::min<std::uint64_t>(last, INT64_MAX)));
  for (std::uint64_t expect = after + 1; st.step(); ++expect) {
    if (static_cast<std::uint64_t>(st.integer(0)) != expect) return;  // A gap: the run ends before it.
    visit(expect, st.blob_view(1), st.blob_view(2));
  }
}

std::size_t count_pending(sql::Database& db) {
  auto kept = db.prepare("SELECT value FROM ferry_meta WHERE key='pending_count'");
  if (kept.step() && kept.integer(0) >= 0) return static_cast<std::size_t>(kept.integer(0));
  auto count = db.prepare("SELECT count(*) FROM ferry_pending");
  count.step();
  return static_cast<std::size_t>(count.integer(0));
}

void keep_pending_count(sql::Database& db) {
  auto kept = db.prepare("SELECT 1 FROM ferry_meta WHERE key='pending_count'");
  if (kept.step()) return;
  db.exec("CREATE TRIGGER IF NOT EXISTS ferry_pending_counted AFTER INSERT ON ferry_pending "
          "BEGIN UPDATE ferry_meta SET value=value+1 WHERE key='pending_count'; END;"
          "CREATE TRIGGER IF NOT EXISTS ferry_pending_uncounted AFTER DELETE ON ferry_pending "
          "BEGIN UPDATE ferry_meta SET value=value-1 WHERE key='pending_count'; END;"
          "INSERT INTO ferry_meta(key, value) SELECT 'pending_count', count(*) FROM ferry_pending");
}

PendingState pending_state(sql::Database& db, const replica::Devices& devices) {
  PendingState state;
  state.operations = count_pending(db);
  if (state.operations == 0) return state;
  const VectorClock heads = devices.clock();
  PendingReader pending(db);
  const std::vector<DeviceId> waiting = pending.devices();
  std::map<DeviceId, std::uint64_t> needed;  // Of devices with nothing pending: up to which seq.
  for (const DeviceId& device : waiting) {
    const auto first = pending.first(device);
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
  // In a fleet whose first grant has not arrived, every other device's operations wait for it (fleet/fleet.h).
  if (const fleet::Fleet fleet(db); !fleet.started())
    needed[*fleet.administrator()] = std::max(needed[*fleet.administrator()], heads.get(*fleet.administrator()) + 1);
  for (const auto& [device, seq] : needed) state.missing.push_back(SeqRange{device, heads.get(device) + 1, seq});
  std::sort(state.missing.begin(), state.missing.end(),
            [](const SeqRange& a, const SeqRange& b) { return a.device < b.device || (a.device == b.device && a.first < b.first); });
  return state;
}

}  // namespace ferry::exchange
