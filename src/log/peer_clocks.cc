#include "log/peer_clocks.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "log/codec.h"
#include "log/fields.h"
#include "util/uuid.h"

namespace ferry::log {
namespace {

constexpr std::size_t kMaxDelta = 64;  // Beyond this, a clock starts a base of its own.

// Device numbers both ways, from the devices the caller has loaded.
struct Numbers {
  const replica::Devices& devices;

  const std::int64_t* no_of(const DeviceId& device) const {
    const replica::Device* d = devices.find(device);
    return d == nullptr ? nullptr : &d->no;
  }
  const DeviceId* id_of(std::int64_t no) const {
    const replica::Device* d = devices.find_no(no);
    return d == nullptr ? nullptr : &d->id;
  }
};

// Entries: array[ array(2)[ uint no | bin16 id, uint seq ] ], seq 0 meaning
// "absent" in a delta. A delta names a device with a row here by its number
// (a few entries, each looked up); a base names every device by id, so that
// reading one, which names most of the fleet, needs none of the device list.
void encode_entries(Encoder& e, const std::vector<std::pair<DeviceId, std::uint64_t>>& entries, const Numbers* numbers) {
  e.array(entries.size());
  for (const auto& [device, seq] : entries) {
    e.array(2);
    if (const std::int64_t* no = numbers ? numbers->no_of(device) : nullptr) e.uint(static_cast<std::uint64_t>(*no));
    else e.bin(device.bytes.data(), 16);
    e.uint(seq);
  }
}

std::vector<std::pair<DeviceId, std::uint64_t>> decode_entries(Cursor& in, const Numbers& numbers,
                                                               const std::string& where) {
  std::vector<std::pair<DeviceId, std::uint64_t>> out;
  const std::size_t n = in.array("kept clock");
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (in.array("kept clock entry") != 2) bad(where, "kept clock entry", "a [device, seq] pair");
    DeviceId device;
    if (!in.bin_if(device.bytes.data(), 16)) {
      const DeviceId* id = numbers.id_of(static_cast<std::int64_t>(in.uint("kept clock device")));
      if (id == nullptr) bad(where, "kept clock device", "a device this database numbers");
      device = *id;
    }
    out.emplace_back(device, in.uint("kept clock seq"));
  }
  return out;
}

// A whole msgpack value of entries (a base clock).
std::vector<std::pair<DeviceId, std::uint64_t>> decode_entries(std::string_view bytes, const Numbers& numbers,
                                                               const std::string& where) {
  Cursor in(bytes, where);
  auto out = decode_entries(in, numbers, where);
  in.finish("kept clock");
  return out;
}

VectorClock clock_of(std::vector<std::pair<DeviceId, std::uint64_t>> entries) {
  return VectorClock(std::move(entries));  // Entries of seq 0 are left out.
}

// The entries that turn `base` (by device, each once) into `clock`.
template <class BaseEntries>
std::vector<std::pair<DeviceId, std::uint64_t>> delta(const BaseEntries& base, const VectorClock& clock) {
  std::vector<std::pair<DeviceId, std::uint64_t>> out;
  auto b = base.begin();
  auto c = clock.entries().begin();
  const auto b_end = base.end();
  const auto c_end = clock.entries().end();
  while (b != b_end || c != c_end) {
    if (c == c_end || (b != b_end && b->first < c->first)) {
      out.emplace_back(b->first, 0);  // In the base, not in the clock.
      ++b;
    } else if (b == b_end || c->first < b->first) {
      out.push_back(*c);
      ++c;
    } else {
      if (b->second != c->second) out.push_back(*c);
      ++b, ++c;
    }
  }
  return out;
}

VectorClock base_clock(sql::Database& db, std::int64_t base, const Numbers& numbers) {
  auto st = db.prepare("SELECT clock FROM ferry_peer_bases WHERE id=?");
  st.bind(1, base);
  if (!st.step()) throw Error(Errc::corrupt, db.path() + ": a kept clock refers to base clock " + std::to_string(base) + ", which is gone");
  return clock_of(decode_entries(st.blob_view(0), numbers, db.path() + ": ferry_peer_bases"));
}

// A kept value: array(2)[ uint base (0: none), delta entries ], or, as
// databases kept it before base clocks, the codec's clock (devices by id).
VectorClock decode_kept(sql::Database& db, std::string_view bytes, const Numbers& numbers) {
  const std::string where = db.path() + ": ferry_devices";
  Cursor in(bytes, where);
  if (in.array("kept clock") != 2 || !in.uint_next()) return decode_clock(bytes, where);
  const auto base = static_cast<std::int64_t>(in.uint("kept clock base"));
  const auto entries = decode_entries(in, numbers, where);
  in.finish("kept clock");
  VectorClock out = base == 0 ? VectorClock{} : base_clock(db, base, numbers);
  for (const auto& [device, seq] : entries) out.set(device, seq);  // 0: absent.
  return out;
}

// The base a kept value refers to (0: none), read from its first bytes.
std::int64_t base_of(std::string_view kept) {
  if (kept.size() < 2 || static_cast<unsigned char>(kept[0]) != 0x92) return 0;
  const auto tag = static_cast<unsigned char>(kept[1]);
  if (tag < 0x80) return tag;
  const std::size_t n = tag == 0xcc ? 1 : tag == 0xcd ? 2 : tag == 0xce ? 4 : tag == 0xcf ? 8 : 0;
  if (n == 0 || kept.size() < 2 + n) return 0;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(kept[2 + i]);
  return static_cast<std::int64_t>(v);
}

// Deletes the bases no kept clock refers to any more.
void drop_unused_bases(sql::Database& db) {
  std::set<std::int64_t> used;
  auto st = db.prepare("SELECT announced_clock, exported_clock FROM ferry_devices");
  while (st.step())
    for (int col = 0; col < 2; ++col)
      if (!st.is_null(col)) used.insert(base_of(st.blob_view(col)));
  auto bases = db.prepare("SELECT id FROM ferry_peer_bases");
  std::vector<std::int64_t> unused;
  while (bases.step())
    if (!used.count(bases.integer(0))) unused.push_back(bases.integer(0));
  auto drop = db.prepare("DELETE FROM ferry_peer_bases WHERE id=?");
  for (const auto id : unused) {
    drop.bind(1, id);
    drop.run();
  }
}

// `clock` as kept: a delta from the base that leaves the fewest entries, or a
// new base when every delta would have more than kMaxDelta.
std::string encode_kept(sql::Database& db, const VectorClock& clock, const Numbers& numbers) {
  const std::vector<std::pair<DeviceId, std::uint64_t>> none;
  std::int64_t best = 0;
  auto best_delta = delta(none, clock);
  auto bases = db.prepare("SELECT id, clock FROM ferry_peer_bases");
  while (bases.step() && best_delta.size() > 0) {
    auto entries = decode_entries(bases.blob_view(1), numbers, db.path() + ": ferry_peer_bases");
    // Kept in device order (checked in one walk); a base kept otherwise still compares right.
    if (!std::is_sorted(entries.begin(), entries.end())) std::sort(entries.begin(), entries.end());
    entries.erase(std::remove_if(entries.begin(), entries.end(), [](const auto& e) { return e.second == 0; }), entries.end());
    auto d = delta(entries, clock);
    if (d.size() < best_delta.size()) best = bases.integer(0), best_delta = std::move(d);
  }
  if (best_delta.size() > kMaxDelta) {
    Encoder e;
    encode_entries(e, delta(none, clock), nullptr);  // By id.
    const std::string whole = e.take();
    auto insert = db.prepare("INSERT INTO ferry_peer_bases(clock) VALUES(?)");
    insert.bind_blob(1, whole.data(), whole.size());
    insert.run();
    best = db.last_insert_rowid();
    best_delta.clear();
  }
  Encoder e;
  e.array(2);
  e.uint(static_cast<std::uint64_t>(best));
  encode_entries(e, best_delta, &numbers);
  return e.take();
}

}  // namespace

VectorClock stored_clock(sql::Database& db, const replica::Devices& devices, const char* column, std::int64_t device_no) {
  auto st = db.prepare(std::string("SELECT ") + column + " FROM ferry_devices WHERE no=?");
  st.bind(1, device_no);
  if (!st.step() || st.is_null(0)) return {};
  return decode_kept(db, st.blob_view(0), Numbers{devices});
}

void store_clock(sql::Database& db, const replica::Devices& devices, const char* clock_column, const char* ms_column,
                 std::int64_t device_no, const VectorClock& clock, const std::optional<OperationId>& bundle) {
  auto old = db.prepare(std::string("SELECT ") + clock_column + " FROM ferry_devices WHERE no=?");
  old.bind(1, device_no);
  const std::int64_t old_base = old.step() && !old.is_null(0) ? base_of(old.blob_view(0)) : 0;
  const std::string enc = encode_kept(db, clock, Numbers{devices});
  auto st = db.prepare(std::string("UPDATE ferry_devices SET ") + clock_column + "=?, " + ms_column + "=? WHERE no=?");
  st.bind_blob(1, enc.data(), enc.size()).bind(2, util::now_ms()).bind(3, device_no);
  st.run();
  // Only the base this clock leaves can have become unused: most kept clocks stay on theirs.
  if (old_base != 0 && old_base != base_of(enc)) drop_unused_bases(db);
  auto ref = db.prepare(bundle ? "INSERT OR REPLACE INTO ferry_peer_refs VALUES(?, ?, ?)"
                               : "DELETE FROM ferry_peer_refs WHERE device=? AND kind=?");
  ref.bind(1, device_no).bind(2, std::string_view(clock_column));
  if (bundle) ref.bind_blob(3, bundle->bytes.data(), 16);
  ref.run();
}

std::optional<OperationId> stored_reference(sql::Database& db, const char* column, std::int64_t device_no) {
  auto st = db.prepare("SELECT bundle_id FROM ferry_peer_refs WHERE device=? AND kind=?");
  st.bind(1, device_no).bind(2, std::string_view(column));
  if (!st.step()) return std::nullopt;
  const std::string_view id = st.blob_view(0);
  if (id.size() != 16) throw Error(Errc::corrupt, db.path() + ": ferry_peer_refs holds a malformed bundle id");
  OperationId out;
  std::memcpy(out.bytes.data(), id.data(), 16);
  return out;
}

std::vector<PeerClocks> all_peer_clocks(sql::Database& db, const replica::Devices& devices) {
  const Numbers numbers{devices};
  auto st = db.prepare("SELECT no, announced_clock, announced_ms, exported_clock, exported_ms FROM ferry_devices "
                       "ORDER BY no");
  std::vector<PeerClocks> out;
  while (st.step()) {
    PeerClocks c;
    c.device_no = st.integer(0);
    if (!st.is_null(1)) c.announced = decode_kept(db, st.blob_view(1), numbers);
    c.announced_ms = st.integer(2);
    if (!st.is_null(3)) c.exported = decode_kept(db, st.blob_view(3), numbers);
    c.exported_ms = st.integer(4);
    out.push_back(std::move(c));
  }
  return out;
}

void name_bases_by_id(sql::Database& db, const replica::Devices& devices) {
  const Numbers numbers{devices};
  std::vector<std::pair<std::int64_t, std::string>> rewritten;
  auto read = db.prepare("SELECT id, clock FROM ferry_peer_bases");
  while (read.step()) {
    Encoder e;
    encode_entries(e, decode_entries(read.blob_view(1), numbers, db.path() + ": ferry_peer_bases"), nullptr);
    rewritten.emplace_back(read.integer(0), e.take());
  }
  auto write = db.prepare("UPDATE ferry_peer_bases SET clock=? WHERE id=?");
  for (const auto& [id, clock] : rewritten) {
    write.bind_blob(1, clock.data(), clock.size()).bind(2, id);
    write.run();
  }
}

void forget_in_stored_clocks(sql::Database& db, const replica::Devices& devices, const DeviceId& device) {
  // Each kept clock that names it is kept again without it; the bases follow.
  const Numbers numbers{devices};
  for (const char* column : {"announced_clock", "exported_clock"}) {
    std::vector<std::pair<std::int64_t, VectorClock>> changed;
    auto read = db.prepare(std::string("SELECT no, ") + column + " FROM ferry_devices WHERE " + column + " IS NOT NULL");
    while (read.step()) {
      const VectorClock clock = decode_kept(db, read.blob_view(1), numbers);
      if (clock.get(device) == 0) continue;
      VectorClock kept = clock;
      kept.set(device, 0);
      changed.emplace_back(read.integer(0), std::move(kept));
    }
    auto write = db.prepare(std::string("UPDATE ferry_devices SET ") + column + "=? WHERE no=?");
    for (const auto& [no, kept] : changed) {
      const std::string enc = encode_kept(db, kept, numbers);
      write.bind_blob(1, enc.data(), enc.size()).bind(2, no);
      write.run();
    }
  }
  drop_unused_bases(db);
  db.exec("DELETE FROM ferry_peer_refs");  // A clock changed may be any of them.
}

}  // namespace ferry::log
