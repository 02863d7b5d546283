#include "engine/pending.h"

#include <cstring>
#include <map>
#include <set>

#include "log/codec.h"

namespace ferry::engine {

PendingState pending_state(sql::Database& db, const Devices& devices) {
  PendingState state;
  std::map<DeviceId, std::set<std::uint64_t>> present;  // Pending sequences per device.
  std::map<DeviceId, std::uint64_t> required;           // Highest sequence pending operations need.
  auto st = db.prepare("SELECT body FROM ferry_pending");
  while (st.step()) {
    const Bytes b = st.blob(0);
    const Operation op = log::decode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()),
                                     db.path() + ": pending operation");
    ++state.operations;
    present[op.origin].insert(op.seq);
    for (const auto& [device, seq] : op.clock.entries()) {
      const std::uint64_t need = device == op.origin ? seq - 1 : seq;
      auto& r = required[device];
      if (need > r) r = need;
    }
  }
  const VectorClock heads = devices.clock();
  for (const auto& [device, need] : required) {
    const auto& have = present[device];
    std::uint64_t cursor = heads.get(device) + 1;  // Gaps are walked by the set, never seq by seq.
    for (std::uint64_t seq : have) {
      if (seq < cursor) continue;
      if (seq > need) break;
      if (seq > cursor) state.missing.push_back(SeqRange{device, cursor, seq - 1});
      cursor = seq + 1;
    }
    if (cursor <= need) state.missing.push_back(SeqRange{device, cursor, need});
  }
  return state;
}

}  // namespace ferry::engine
