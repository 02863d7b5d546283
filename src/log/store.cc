#include "log/store.h"

#include <cstring>

#include "ferry/error.h"
#include "log/codec.h"

namespace ferry::log {

Store::Store(sql::Database& db)
    : db_(db),
      insert_(db.prepare("INSERT INTO ferry_log(origin, seq, hash, body) VALUES(?, ?, ?, ?)", true)),
      select_(db.prepare("SELECT hash, body FROM ferry_log WHERE origin=? AND seq=?", true)),
      select_base_(db.prepare("SELECT hash, body FROM ferry_base WHERE origin=? AND seq=?", true)),
      insert_base_(db.prepare("INSERT OR IGNORE INTO ferry_base(origin, seq, hash, body) VALUES(?, ?, ?, ?)", true)) {}

void Store::add_base(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body) {
  insert_base_.bind_blob_view(1, origin.bytes.data(), 16).bind(2, static_cast<std::int64_t>(seq))
      .bind_blob_view(3, hash.data(), 32).bind_blob_view(4, body.data(), body.size());
  insert_base_.run();
}

void Store::append(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body) {
  insert_.bind_blob_view(1, origin.bytes.data(), 16)
      .bind(2, static_cast<std::int64_t>(seq))
      .bind_blob_view(3, hash.data(), hash.size())
      .bind_blob_view(4, body.data(), body.size());
  insert_.run();
}

std::optional<std::string> Store::body(const DeviceId& origin, std::uint64_t seq) {
  for (sql::Statement* st : {&select_, &select_base_}) {
    st->bind_blob_view(1, origin.bytes.data(), 16).bind(2, static_cast<std::int64_t>(seq));
    if (st->step()) {
      const Bytes b = st->blob(1);
      st->reset();
      return std::string(b.begin(), b.end());
    }
    st->reset();
  }
  return std::nullopt;
}

std::optional<Hash> Store::hash(const DeviceId& origin, std::uint64_t seq) {
  for (sql::Statement* st : {&select_, &select_base_}) {
    st->bind_blob_view(1, origin.bytes.data(), 16).bind(2, static_cast<std::int64_t>(seq));
    if (st->step()) {
      const Bytes b = st->blob(0);
      st->reset();
      Hash h{};
      if (b.size() == h.size()) std::memcpy(h.data(), b.data(), h.size());
      return h;
    }
    st->reset();
  }
  return std::nullopt;
}

std::size_t count_operations(sql::Database& db) {
  auto st = db.prepare("SELECT count(*) FROM ferry_log");
  st.step();
  return static_cast<std::size_t>(st.integer(0));
}

namespace {

std::string name_of(const DeviceId& id, const engine::Devices& devices) {
  for (const auto& [no, d] : devices.all())
    if (d.id == id && !d.name.empty()) return id.to_string() + " (" + d.name + ")";
  return id.to_string();
}

}  // namespace

VerifyReport verify_log(sql::Database& db, const engine::Devices& devices) {
  VerifyReport report;
  auto fail = [&](const std::string& what) {
    report.ok = false;
    report.first_failure = what;
    return report;
  };
  auto st = db.prepare("SELECT origin, seq, hash, body, typeof(origin), typeof(seq), typeof(hash), typeof(body) "
                       "FROM ferry_log ORDER BY origin, seq");
  DeviceId current{};
  bool have_current = false;
  std::uint64_t last_seq = 0;
  Hash last_hash{};
  auto close_chain = [&]() -> bool {
    if (!have_current) return true;
    ++report.devices;
    for (const auto& [no, d] : devices.all()) {
      if (d.id != current) continue;
      if (d.head_seq != last_seq)
        return fail("device " + name_of(current, devices) + ": the log ends at operation " + std::to_string(last_seq) +
                    " but the device's recorded head is " + std::to_string(d.head_seq) +
                    " (operations were removed or added behind ferry's back)"),
               false;
      if (d.head_hash != last_hash)
        return fail("device " + name_of(current, devices) + ": the last operation's hash differs from the recorded chain head"),
               false;
      return true;
    }
    return fail("device " + current.to_string() + " has operations in the log but is not a known device"), false;
  };
  while (st.step()) {
    if (st.text(4) != "blob" || st.text(5) != "integer" || st.text(6) != "blob" || st.text(7) != "blob")
      return fail("a ferry_log row has columns of the wrong type (the log was edited behind ferry's back)");
    const Bytes origin_b = st.blob(0), hash_b = st.blob(2), body_b = st.blob(3);
    const auto seq = static_cast<std::uint64_t>(st.integer(1));
    if (origin_b.size() != 16 || hash_b.size() != 32)
      return fail("a ferry_log row has a malformed origin or hash (the log was edited behind ferry's back)");
    DeviceId origin;
    std::memcpy(origin.bytes.data(), origin_b.data(), 16);
    if (!have_current || origin != current) {
      if (!close_chain()) return report;
      current = origin;
      have_current = true;
      last_seq = 0;
      last_hash = Hash{};
      for (const auto& [no, d] : devices.all())
        if (d.id == origin) last_seq = d.base_seq, last_hash = d.base_hash;  // A snapshot's head, or 0.
    }
    const std::string where = "operation " + std::to_string(seq) + " of device " + name_of(origin, devices);
    if (seq != last_seq + 1)
      return fail(where + ": expected operation " + std::to_string(last_seq + 1) + " here (an operation is missing or was inserted)");
    const std::string_view body(reinterpret_cast<const char*>(body_b.data()), body_b.size());
    Hash stored{};
    std::memcpy(stored.data(), hash_b.data(), 32);
    if (hash_of(body) != stored) return fail(where + ": its hash does not match its content (the operation was edited)");
    Operation op;
    try {
      op = decode(body, where);
    } catch (const Error& e) {
      return fail(e.what());
    }
    if (op.origin != origin || op.seq != seq)
      return fail(where + ": its content claims to be operation " + std::to_string(op.seq) + " of device " +
                  op.origin.to_string() + " (rows were moved or reordered)");
    if (op.prev_hash != last_hash)
      return fail(where + ": it does not continue the chain (previous hash differs; operations were reordered, "
                          "replaced or removed)");
    last_seq = seq;
    last_hash = stored;
    ++report.operations;
  }
  if (!close_chain()) return report;
  auto base = db.prepare("SELECT origin, seq, hash, body FROM ferry_base");
  while (base.step()) {
    const Bytes b = base.blob(3), h = base.blob(2);
    const std::string_view body(reinterpret_cast<const char*>(b.data()), b.size());
    Hash stored{};
    if (h.size() == 32) std::memcpy(stored.data(), h.data(), 32);
    if (h.size() != 32 || hash_of(body) != stored)
      return fail("operation " + std::to_string(base.integer(1)) +
                  " brought by the snapshot this database started from: its hash does not match its content");
    ++report.operations;
  }
  for (const auto& [no, d] : devices.all()) {
    if (d.head_seq == d.base_seq) continue;  // Nothing beyond the base (or nothing at all).
    auto count = db.prepare("SELECT count(*) FROM ferry_log WHERE origin=?");
    count.bind_blob(1, d.id.bytes.data(), 16);
    count.step();
    if (count.integer(0) == 0)
      return fail("device " + name_of(d.id, devices) + ": the recorded head is operation " + std::to_string(d.head_seq) +
                  " but the log holds none of its operations (they were deleted)");
  }
  return report;
}

}  // namespace ferry::log
