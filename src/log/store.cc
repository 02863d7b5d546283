#include "log/store.h"

#include <cstring>

#include "ferry/error.h"
#include "log/codec.h"
#include "replica/schema.h"

namespace ferry::log {

std::int64_t log_id(std::int64_t device_no, std::uint64_t seq) {
  if (seq >= (std::uint64_t{1} << kSeqBits) || device_no <= 0 || device_no >= (std::int64_t{1} << (62 - kSeqBits)))
    throw Error(Errc::refused, "operation " + std::to_string(seq) + " of local device number " +
                                   std::to_string(device_no) + " is beyond what the log can number");
  return (device_no << kSeqBits) | static_cast<std::int64_t>(seq);
}

Store::Store(sql::Database& db, const replica::Devices& devices)
    : db_(db),
      devices_(devices),
      index_(db),
      appends_(db, "INSERT INTO ferry_log(id, body)"),
      select_(db.prepare("SELECT body FROM ferry_log WHERE id=?", true)),
      select_base_(db.prepare("SELECT body FROM ferry_base WHERE origin=? AND seq=?", true)),
      insert_base_(db.prepare("INSERT OR IGNORE INTO ferry_base(origin, seq, hash, body) VALUES(?, ?, ?, ?)", true)) {}

std::optional<std::int64_t> Store::id_of(const DeviceId& origin, std::uint64_t seq) const {
  const replica::Device* d = devices_.find(origin);
  if (d == nullptr) return std::nullopt;
  return log_id(d->no, seq);
}

std::int64_t Store::number_of(const DeviceId& device) const {
  const replica::Device* d = devices_.find(device);
  if (d == nullptr) throw Error(Errc::internal, "an operation naming unknown device " + device.to_string() + " reached the log");
  return d->no;
}

void Store::add_base(const Operation& op, const Hash& hash, std::string_view body, bool record) {
  insert_base_.bind_blob_view(1, op.origin.bytes.data(), 16).bind(2, static_cast<std::int64_t>(op.seq))
      .bind_blob_view(3, hash.data(), 32).bind_blob_view(4, body.data(), body.size());
  insert_base_.run();
  // INSERT OR IGNORE: an operation a snapshot carries twice is recorded once.
  if (record && db_.changes() > 0)
    index_.record(number_of(op.origin), op, [this](const DeviceId& d) { return number_of(d); });
}

void Store::append(const Operation& op, std::string_view body) {
  const std::int64_t chain = number_of(op.origin);
  appends_.add(log_id(chain, op.seq), body);
  index_.record(chain, op, [this](const DeviceId& d) { return number_of(d); });
}

void Store::add_index_row(const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq) {
  index_.add_row(number_of(chain), number_of(dep), seq, dep_seq);
}

std::string Store::index_disagrees(const Operation& op) {
  return index_.disagreement(number_of(op.origin), op, [this](const DeviceId& d) { return number_of(d); });
}

std::uint64_t Store::clock_entry(const DeviceId& origin, std::uint64_t seq, const DeviceId& of) {
  const replica::Device* d = devices_.find(of);
  return d == nullptr ? 0 : index_.entry(number_of(origin), seq, d->no);
}

std::optional<std::string> Store::body(const DeviceId& origin, std::uint64_t seq) {
  if (const auto id = id_of(origin, seq)) {
    if (const auto gathered = appends_.find(*id)) return std::string(*gathered);
    select_.bind(1, *id);
    if (select_.step()) {
      const Bytes b = select_.blob(0);
      select_.reset();
      return std::string(b.begin(), b.end());
    }
    select_.reset();
  }
  select_base_.bind_blob_view(1, origin.bytes.data(), 16).bind(2, static_cast<std::int64_t>(seq));
  std::optional<std::string> out;
  if (select_base_.step()) {
    const Bytes b = select_base_.blob(0);
    out.emplace(b.begin(), b.end());
  }
  select_base_.reset();
  return out;
}

std::optional<Hash> Store::hash(const DeviceId& origin, std::uint64_t seq) {
  const auto b = body(origin, seq);
  if (!b) return std::nullopt;
  return hash_of(*b);
}

std::size_t count_operations(sql::Database& db) {
  auto st = db.prepare("SELECT count(*) FROM ferry_log");
  st.step();
  return static_cast<std::size_t>(st.integer(0));
}

void for_each_held(sql::Database& db, const BodyVisitor& visit) {
  auto st = db.prepare("SELECT body FROM ferry_base UNION ALL SELECT body FROM ferry_log");
  while (st.step()) visit(st.blob_view(0));
}

void for_each_logged(sql::Database& db, const BodyVisitor& visit) {
  auto st = db.prepare("SELECT body FROM ferry_log");
  while (st.step()) visit(st.blob_view(0));
}

ChainReader::ChainReader(sql::Database& db)
    : range_(db.prepare("SELECT id, body FROM ferry_log WHERE id BETWEEN ? AND ? ORDER BY id")) {}

void ChainReader::read(std::int64_t device_no, std::uint64_t first, std::uint64_t last, const SeqVisitor& visit) {
  if (first > last) return;
  const std::int64_t zero = log_id(device_no, 0);
  range_.bind(1, log_id(device_no, first)).bind(2, log_id(device_no, last));
  while (range_.step()) visit(static_cast<std::uint64_t>(range_.integer(0) - zero), range_.blob_view(1));
  range_.reset();
}

void for_each_in_chain(sql::Database& db, std::int64_t device_no, std::uint64_t first, std::uint64_t last,
                       const SeqVisitor& visit) {
  ChainReader(db).read(device_no, first, last, visit);
}

void for_each_in_base(sql::Database& db, const DeviceId& origin, const BodyVisitor& visit) {
  auto st = db.prepare("SELECT body FROM ferry_base WHERE origin=? ORDER BY seq");
  st.bind_blob(1, origin.bytes.data(), 16);
  while (st.step()) visit(st.blob_view(0));
}

void remove(sql::Database& db, std::int64_t device_no, std::uint64_t first, std::uint64_t last) {
  if (first > last) return;
  db.exec("DROP TRIGGER ferry_log_append_only_delete");
  auto drop = db.prepare("DELETE FROM ferry_log WHERE id BETWEEN ? AND ?");
  drop.bind(1, log_id(device_no, first)).bind(2, log_id(device_no, last));
  drop.run();
  replica::create_schema(db);  // Puts the guard back.
  CausalIndex(db).remove(device_no, first, last);
}

void remove_base(sql::Database& db, const DeviceId& origin, std::int64_t device_no) {
  auto st = db.prepare("SELECT seq FROM ferry_base WHERE origin=?");
  st.bind_blob(1, origin.bytes.data(), 16);
  CausalIndex index(db);
  while (st.step()) {
    const auto seq = static_cast<std::uint64_t>(st.integer(0));
    index.remove(device_no, seq, seq);
  }
  auto drop = db.prepare("DELETE FROM ferry_base WHERE origin=?");
  drop.bind_blob(1, origin.bytes.data(), 16);
  drop.run();
}

namespace {

std::string name_of(const DeviceId& id, const replica::Devices& devices) {
  const replica::Device* d = devices.find(id);
  return d != nullptr && !d->name.empty() ? id.to_string() + " (" + printable(d->name) + ")" : id.to_string();
}

// The first row of the causal index that no operation held accounts for: each
// says that operation `seq` of `chain` had seen `dep` up to `dep_seq`, which
// that operation's own clock (format 1) or deps (format 2) must say too.
std::string stray_index_row(sql::Database& db, const replica::Devices& devices) {
  const replica::Devices& all = devices;
  Store store(db, all);
  auto rows = db.prepare("SELECT chain, dep, seq, dep_seq FROM ferry_deps ORDER BY chain, seq");
  Operation op;  // The operation the rows before were of: one decoding for all the rows at it.
  std::pair<std::int64_t, std::uint64_t> decoded{0, 0};
  while (rows.step()) {
    const replica::Device* chain = all.find_no(rows.integer(0));
    const replica::Device* dep = all.find_no(rows.integer(1));
    const auto seq = static_cast<std::uint64_t>(rows.integer(2)), dep_seq = static_cast<std::uint64_t>(rows.integer(3));
    const std::string what = "the causal index row for operation " + std::to_string(seq) + " of device number " +
                             std::to_string(rows.integer(0)) + " (ferry_deps was edited behind ferry's back)";
    if (chain == nullptr || dep == nullptr) return what + " names no known device";
    if (decoded != std::make_pair(rows.integer(0), seq)) {
      const auto body = store.body(chain->id, seq);
      if (!body && seq <= chain->base_seq) continue;  // A snapshot's: the base vouches for what it says.
      if (!body) return what + " names an operation the database does not hold";
      try {
        op = decode(*body, "operation " + std::to_string(seq) + " of " + chain->id.to_string(),
                    kNewestOperationFormat);
      } catch (const Error& e) {
        return e.what();
      }
      decoded = {rows.integer(0), seq};
    }
    if (op.clock.get(dep->id) != dep_seq)
      return what + " says it had seen operation " + std::to_string(dep_seq) + " of " + dep->id.to_string() +
             "; the operation says " + std::to_string(op.clock.get(dep->id));
  }
  return {};
}

}  // namespace

VerifyReport verify_log(sql::Database& db, const replica::Devices& devices) {
  VerifyReport report;
  CausalIndex index(db);
  auto number_of = [&](const DeviceId& id) -> std::int64_t {
    const replica::Device* d = devices.find(id);
    return d == nullptr ? 0 : d->no;  // 0 names no device: the index has no row for it.
  };
  auto fail = [&](const std::string& what) {
    report.ok = false;
    report.first_failure = what;
    return report;
  };
  auto st = db.prepare("SELECT id, body, typeof(id), typeof(body) FROM ferry_log ORDER BY id");
  DeviceId current{};
  bool have_current = false;
  std::uint64_t last_seq = 0;
  Hash last_hash{};
  auto close_chain = [&]() -> bool {
    if (!have_current) return true;
    ++report.devices;
    if (const replica::Device* d = devices.find(current)) {
      if (d->head_seq != last_seq)
        return fail("device " + name_of(current, devices) + ": the log ends at operation " + std::to_string(last_seq) +
                    " but the device's recorded head is " + std::to_string(d->head_seq) +
                    " (operations were removed or added behind ferry's back)"),
               false;
      if (devices.head_hash(*d) != last_hash)
        return fail("operation " + std::to_string(last_seq) + " of device " + name_of(current, devices) +
                    ": the last operation does not match the recorded chain head (it was edited or replaced)"),
               false;
      return true;
    }
    return fail("device " + current.to_string() + " has operations in the log but is not a known device"), false;
  };
  const std::int64_t seq_mask = (std::int64_t{1} << kSeqBits) - 1;
  while (st.step()) {
    if (st.text(2) != "integer" || st.text(3) != "blob")
      return fail("a ferry_log row has columns of the wrong type (the log was edited behind ferry's back)");
    const std::int64_t id = st.integer(0);
    const auto seq = static_cast<std::uint64_t>(id & seq_mask);
    const replica::Device* found = id <= 0 ? nullptr : devices.find_no(id >> kSeqBits);
    if (found == nullptr)
      return fail("a ferry_log row (id " + std::to_string(id) + ") belongs to no known device (the log was edited "
                  "behind ferry's back)");
    const DeviceId origin = found->id;
    const Bytes body_b = st.blob(1);
    if (!have_current || origin != current) {
      if (!close_chain()) return report;
      current = origin;
      have_current = true;
      last_seq = found->base_seq;  // A snapshot's head, or 0.
      last_hash = devices.base_hash(*found);
    }
    const std::string where = "operation " + std::to_string(seq) + " of device " + name_of(origin, devices);
    if (seq != last_seq + 1)
      return fail(where + ": expected operation " + std::to_string(last_seq + 1) + " here (an operation is missing or was inserted)");
    const std::string_view body(reinterpret_cast<const char*>(body_b.data()), body_b.size());
    Operation op;
    try {
      op = decode(body, where, kNewestOperationFormat);
    } catch (const Error& e) {
      return fail(e.what());
    }
    if (op.origin != origin || op.seq != seq)
      return fail(where + ": its content claims to be operation " + std::to_string(op.seq) + " of device " +
                  op.origin.to_string() + " (rows were moved or reordered)");
    if (op.prev_hash != last_hash) {
      if (seq == 1 || seq == found->base_seq + 1)
        return fail(where + ": it does not start the chain as recorded (it was edited or replaced)");
      return fail("operation " + std::to_string(last_seq) + " of device " + name_of(origin, devices) +
                  " does not match the hash that operation " + std::to_string(seq) +
                  " records for it (one of the two was edited, replaced or reordered)");
    }
    const std::string wrong = index.disagreement(found->no, op, number_of);
    if (!wrong.empty()) return fail(where + ": " + wrong + " (ferry_deps was edited behind ferry's back)");
    last_seq = seq;
    last_hash = hash_of(body);
    ++report.operations;
  }
  if (!close_chain()) return report;
  if (const std::string stray = stray_index_row(db, devices); !stray.empty()) return fail(stray);
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
  for (const replica::Device& d : devices.all()) {
    if (d.head_seq == d.base_seq) continue;  // Nothing beyond the base (or nothing at all).
    auto count = db.prepare("SELECT count(*) FROM ferry_log WHERE id BETWEEN ? AND ?");
    count.bind(1, log_id(d.no, 0)).bind(2, log_id(d.no, 0) | seq_mask);
    count.step();
    if (count.integer(0) == 0)
      return fail("device " + name_of(d.id, devices) + ": the recorded head is operation " + std::to_string(d.head_seq) +
                  " but the log holds none of its operations (they were deleted)");
  }
  return report;
}

}  // namespace ferry::log
