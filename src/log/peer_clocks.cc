#include "log/peer_clocks.h"

#include "log/codec.h"
#include "util/uuid.h"

namespace ferry::log {

VectorClock stored_clock(sql::Database& db, const char* column, std::int64_t device_no) {
  auto st = db.prepare(std::string("SELECT ") + column + " FROM ferry_devices WHERE no=?");
  st.bind(1, device_no);
  if (!st.step() || st.is_null(0)) return {};
  return decode_clock(st.blob_view(0), db.path() + ": ferry_devices");
}

void store_clock(sql::Database& db, const char* clock_column, const char* ms_column, std::int64_t device_no,
                 const VectorClock& clock) {
  const std::string enc = encode_clock(clock);
  auto st = db.prepare(std::string("UPDATE ferry_devices SET ") + clock_column + "=?, " + ms_column + "=? WHERE no=?");
  st.bind_blob(1, enc.data(), enc.size()).bind(2, util::now_ms()).bind(3, device_no);
  st.run();
}

std::vector<PeerClocks> all_peer_clocks(sql::Database& db) {
  auto st = db.prepare("SELECT no, announced_clock, announced_ms, exported_clock, exported_ms FROM ferry_devices "
                       "ORDER BY no");
  std::vector<PeerClocks> out;
  while (st.step()) {
    PeerClocks c;
    c.device_no = st.integer(0);
    if (!st.is_null(1)) c.announced = decode_clock(st.blob_view(1), db.path() + ": ferry_devices");
    c.announced_ms = st.integer(2);
    if (!st.is_null(3)) c.exported = decode_clock(st.blob_view(3), db.path() + ": ferry_devices");
    c.exported_ms = st.integer(4);
    out.push_back(std::move(c));
  }
  return out;
}

void forget_in_stored_clocks(sql::Database& db, const DeviceId& device) {
  for (const char* column : {"announced_clock", "exported_clock"}) {
    auto read = db.prepare(std::string("SELECT no, ") + column + " FROM ferry_devices WHERE " + column + " IS NOT NULL");
    auto write = db.prepare(std::string("UPDATE ferry_devices SET ") + column + "=? WHERE no=?");
    while (read.step()) {
      const VectorClock clock = decode_clock(read.blob_view(1), db.path() + ": ferry_devices");
      if (clock.get(device) == 0) continue;
      VectorClock kept;
      for (const auto& [d, n] : clock.entries())
        if (d != device) kept.set(d, n);
      const std::string enc = encode_clock(kept);
      write.bind_blob(1, enc.data(), enc.size()).bind(2, read.integer(0));
      write.run();
    }
  }
}

}  // namespace ferry::log
