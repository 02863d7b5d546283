#include "bundle/stored.h"

#include <algorithm>
#include <cstring>

#include "ferry/error.h"
#include "log/codec.h"
#include "log/fields.h"
#include "util/hex.h"
#include "util/uuid.h"

namespace ferry::bundle {

namespace {

std::string id_key(const DeviceId& id) { return std::string(reinterpret_cast<const char*>(id.bytes.data()), 16); }

}  // namespace

StoredForms::StoredForms(std::vector<DeviceId> chains, std::vector<TableShape> tables, log::KnownChains names)
    : chains_(std::move(chains)), tables_(std::move(tables)), names_(std::move(names)) {
  for (std::size_t i = 0; i < chains_.size(); ++i) chain_numbers_.emplace(id_key(chains_[i]), i + 1);
  for (std::size_t i = 0; i < tables_.size(); ++i) table_numbers_.emplace(tables_[i].name, i + 1);
}

void StoredForms::encode_format1(std::string_view body, std::string& out) {
  log::Encoder e;
  e.array(2);
  e.nil();
  const std::string_view unlinked = log::unlinked(body);
  e.bin(unlinked.data(), unlinked.size());
  e.append_to(out);
}

void StoredForms::encode(const Operation& op, const Position& at, std::string& out) const {
  if (op.format == 1) return encode_format1(log::encode(op), out);
  log::Encoder e;
  const auto table = table_numbers_.find(op.table);
  if (table == table_numbers_.end())
    throw Error(Errc::invalid_argument, "table " + op.table + " is not among the bundle's tables");
  const TableShape& shape = tables_[table->second - 1];
  const auto time_ms = static_cast<std::uint64_t>(op.id.unix_ms());  // The id's first 48 bits.
  e.array(7);
  e.uint(op.lamport - at.prev_lamport);
  e.integer(static_cast<std::int64_t>(time_ms) - static_cast<std::int64_t>(at.prev_time_ms));
  e.array(op.clock.entries().size());
  for (const auto& [device, seq] : op.clock.entries()) {  // By device: the chains' numbering order.
    const auto chain = chain_numbers_.find(id_key(device));
    if (chain == chain_numbers_.end())
      throw Error(Errc::invalid_argument, "chain " + device.to_string() + " is not among the bundle's chains");
    e.array(2);
    e.uint(chain->second);
    e.uint(seq);
  }
  e.uint(table->second);
  e.array(op.key.size());
  for (const auto& v : op.key) e.value(v);
  e.uint(static_cast<std::uint64_t>(op.kind));
  std::vector<std::pair<std::size_t, const Value*>> columns;
  columns.reserve(op.columns.size());
  for (const auto& c : op.columns) {
    const auto at_column = std::find(shape.columns.begin(), shape.columns.end(), c.name);
    if (at_column == shape.columns.end())
      throw Error(Errc::invalid_argument, "column " + c.name + " is not among table " + op.table + "'s columns");
    columns.emplace_back(static_cast<std::size_t>(at_column - shape.columns.begin()), &c.value);
  }
  std::sort(columns.begin(), columns.end());
  e.array(columns.size());
  for (const auto& [number, value] : columns) {
    e.array(2);
    e.uint(number);
    e.value(*value);
  }
  e.append_to(out);
}

void StoredForms::encode_held(std::string_view body, const Position& at, std::string& out, std::uint64_t& lamport,
                              std::uint64_t& time_ms) const {
  const std::string where;  // The caller names the operation: building its name here would cost more than the rest.
  log::Cursor in(body, where);
  if (in.array("operation") != 12 || in.uint("format") != 2) log::bad(where, "operation", "of format 2");
  in.bin("origin");
  in.str("scope");  // The range's chain says both.
  in.uint("seq");
  lamport = in.uint("lamport");
  time_ms = in.uint("time_ms");
  auto write = [&](log::Encoder& e) {  // Fields in the order the stored form has them.
    e.array(7);
    e.uint(lamport - at.prev_lamport);
    e.integer(static_cast<std::int64_t>(time_ms) - static_cast<std::int64_t>(at.prev_time_ms));
    const std::size_t deps = in.array("deps");
    std::vector<std::pair<std::uint64_t, std::uint64_t>> numbered;  // (chain number, seq)
    numbered.reserve(deps);
    bool scoped = false;
    for (std::size_t i = 0; i < deps; ++i) {  // By (device, scope); the numbers follow chain ids.
      if (in.array("dep") != 3) log::bad(where, "dep", "a [device, scope, seq] triple");
      std::string key(in.bin("dep device"));
      const std::string_view dep_scope = in.str("dep scope");
      if (!dep_scope.empty() && key.size() == 16) {  // A chain of a scope: its derived id.
        DeviceId device;
        std::memcpy(device.bytes.data(), key.data(), 16);
        key = id_key(log::chain_id(device, dep_scope));
        scoped = true;
      }
      const auto chain = chain_numbers_.find(key);
      if (chain == chain_numbers_.end())
        throw Error(Errc::invalid_argument, ": follows chain " + util::hex(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()) +
                                                (dep_scope.empty() ? "" : " (scope '" + printable(std::string(dep_scope)) + "')") +
                                                ", not among the bundle's");
      numbered.emplace_back(chain->second, in.uint("dep seq"));
    }
    if (scoped) std::sort(numbered.begin(), numbered.end());
    e.array(deps);
    for (const auto& [number, seq] : numbered) {
      e.array(2);
      e.uint(number);
      e.uint(seq);
    }
    const std::string_view name = in.str("table");
    const auto table = table_numbers_.find(std::string(name));
    if (table == table_numbers_.end())
      throw Error(Errc::invalid_argument, ": table " + std::string(name) + " is not among the bundle's tables");
    const TableShape& shape = tables_[table->second - 1];
    e.uint(table->second);
    const std::size_t keys = in.array("key");
    e.array(keys);
    for (std::size_t i = 0; i < keys; ++i) e.raw(in.value("key value"));  // Canonical already: copied as they are.
    e.uint(in.uint("kind"));
    std::vector<std::pair<std::size_t, std::string_view>> columns(in.array("columns"));
    for (auto& [number, value] : columns) {
      if (in.array("column") != 2) log::bad(where, "column", "a [name, value] pair");
      const std::string_view column = in.str("column name");
      const auto at_column = std::find(shape.columns.begin(), shape.columns.end(), column);
      if (at_column == shape.columns.end())
        throw Error(Errc::invalid_argument, ": column " + std::string(column) + " is not among table " + shape.name +
                                                "'s columns");
      number = static_cast<std::size_t>(at_column - shape.columns.begin());
      value = in.value("column value");
    }
    std::sort(columns.begin(), columns.end());  // By name in the canonical form, by number here.
    e.array(columns.size());
    for (const auto& [number, value] : columns) {
      e.array(2);
      e.uint(number);
      e.raw(value);
    }
    if (in.bin("prev_hash").size() != 32) log::bad(where, "prev_hash", "32 bytes");
    in.finish("operation");
  };
  const std::size_t before = out.size();
  log::Encoder e(std::move(out));  // Straight after what `out` holds, which it gives back, also on a throw.
  try {
    write(e);
  } catch (...) {
    out = e.take();
    out.resize(before);
    throw;
  }
  out = e.take();
}

bool StoredForms::rebuild_format1(std::string_view segment, std::size_t& offset, const Hash& prev,
                                  std::string& canonical, const std::string& where) {
  // [nil, bin]: fixarray(2), nil, then a bin of one of three lengths.
  if (segment.size() < offset + 2 || segment.substr(offset, 2) != std::string_view("\x92\xc0", 2)) return false;
  std::size_t next = offset + 1;
  const auto handle = log::parse_next(segment, next, where);
  if (handle->get().type != msgpack::type::NIL) return false;
  const auto body = log::parse_next(segment, next, where);
  if (body->get().type != msgpack::type::BIN) log::bad(where, "stored operation", "[nil, bin] for format 1");
  log::relink(std::string_view(body->get().via.bin.ptr, body->get().via.bin.size), prev, canonical);
  offset = next;
  return true;
}

Operation StoredForms::decode(std::string_view segment, std::size_t& offset, const Position& at,
                              std::string& canonical, const std::string& where, bool rebuild_only) const {
  const std::size_t start = offset;
  const auto handle = log::parse_next(segment, offset, where);
  const auto& top = log::get_array(handle->get(), where, "stored operation");
  Operation op;
  if (top.size == 2 && top.ptr[0].type == msgpack::type::NIL) {  // stored1: a 3.0 body without its link.
    if (top.ptr[1].type != msgpack::type::BIN) log::bad(where, "stored operation", "[nil, bin] for format 1");
    const std::size_t n = top.ptr[1].via.bin.size;
    log::relink(std::string_view(top.ptr[1].via.bin.ptr, n), at.prev_hash, canonical);
    op = log::decode(canonical, where, 1);  // Canonical, so the body has one form: the wrapper is what is left.
    const std::size_t header = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;  // bin 8, 16 or 32: the shortest.
    const auto marker = static_cast<unsigned char>(segment[start + 2]);
    if (offset - start != 2 + header + n || marker != (n < 0x100 ? 0xc4 : n < 0x10000 ? 0xc5 : 0xc6))
      throw Error(Errc::corrupt, where + ": operation is not stored in its one form");
    return op;
  } else {
    if (top.size != 7) log::bad(where, "stored operation", "an array of 7 fields, or [nil, bin]");
    const msgpack::object* f = top.ptr;
    op.format = 2;
    op.origin = at.origin;
    op.scope = names_.name(at.origin).scope;
    op.seq = at.seq;
    op.prev_hash = at.prev_hash;
    const std::uint64_t step = log::get_uint(f[0], where, "lamport step");
    if (step == 0 || step > static_cast<std::uint64_t>(INT64_MAX) - at.prev_lamport)
      log::bad(where, "lamport step", "at least 1, with a Lamport time below 2^63");
    op.lamport = at.prev_lamport + step;
    const msgpack::object& time_step = f[1];
    std::int64_t delta = 0;
    if (time_step.type == msgpack::type::POSITIVE_INTEGER && time_step.via.u64 <= log::kMaxTimeMs)
      delta = static_cast<std::int64_t>(time_step.via.u64);
    else if (time_step.type == msgpack::type::NEGATIVE_INTEGER && time_step.via.i64 >= -static_cast<std::int64_t>(log::kMaxTimeMs))
      delta = time_step.via.i64;
    else
      log::bad(where, "time step", "an integer within 48 bits");
    const std::int64_t time_ms = static_cast<std::int64_t>(at.prev_time_ms) + delta;
    if (time_ms < 0 || static_cast<std::uint64_t>(time_ms) > log::kMaxTimeMs)
      log::bad(where, "time step", "one that keeps the time between 0 and 2^48-1");
    op.id = util::make_operation_id(time_ms, op.origin, op.seq);
    const auto& deps = log::get_array(f[2], where, "deps");
    std::vector<VectorClock::Entry> entries;  // Sorted once, whatever order they come in.
    entries.reserve(deps.size);
    for (std::uint32_t i = 0; i < deps.size; ++i) {
      const auto& entry = log::get_array(deps.ptr[i], where, "deps entry");
      if (entry.size != 2) log::bad(where, "deps entry", "a [chain, seq] pair");
      const std::uint64_t chain = log::get_uint(entry.ptr[0], where, "deps chain");
      if (chain == 0 || chain > chains_.size()) log::bad(where, "deps chain", "a chain the bundle numbers");
      const std::uint64_t seq = log::get_uint(entry.ptr[1], where, "deps seq");
      if (seq == 0 || seq > log::kMaxCounter) log::bad(where, "deps seq", "between 1 and 2^62");
      entries.emplace_back(chains_[chain - 1], seq);
    }
    op.clock = VectorClock(std::move(entries));
    if (op.clock.entries().size() != deps.size) log::bad(where, "deps", "free of duplicate chains");
    const std::uint64_t table = log::get_uint(f[3], where, "table");
    if (table == 0 || table > tables_.size()) log::bad(where, "table", "a table the bundle numbers");
    const TableShape& shape = tables_[table - 1];
    op.table = shape.name;
    const auto& key = log::get_array(f[4], where, "key");
    for (std::uint32_t i = 0; i < key.size; ++i) op.key.push_back(log::get_value(key.ptr[i], where, "key"));
    const std::uint64_t kind = log::get_uint(f[5], where, "kind");
    if (kind > 2) log::bad(where, "kind", "0 (insert), 1 (update) or 2 (delete)");
    op.kind = static_cast<OpKind>(kind);
    const auto& columns = log::get_array(f[6], where, "columns");
    for (std::uint32_t i = 0; i < columns.size; ++i) {
      const auto& pair = log::get_array(columns.ptr[i], where, "column");
      if (pair.size != 2) log::bad(where, "column", "a [number, value] pair");
      const std::uint64_t number = log::get_uint(pair.ptr[0], where, "column number");
      if (number >= shape.columns.size()) log::bad(where, "column number", "a column of the table");
      op.columns.push_back({shape.columns[number], log::get_value(pair.ptr[1], where, "column value")});
    }
    std::sort(op.columns.begin(), op.columns.end(),
              [](const ColumnValue& a, const ColumnValue& b) { return a.name < b.name; });
    // The canonical decoder checks everything else (deps free of the origin, a key, no columns on a delete,
    // columns named once).
    try {
      canonical = log::encode(op, &names_);  // Deps of another scope are refused here.
    } catch (const Error& e) {
      if (e.code() != Errc::invalid_argument) throw;
      throw Error(Errc::corrupt, where + ": " + e.what());
    }
    if (rebuild_only) return op;
    // The bytes are canonical, being the encoder's: decoding them checks the rest.
    op = log::decode_held(canonical, where);
  }
  // One operation, one stored form (format 2: its fields could be written otherwise).
  std::string again;
  encode(op, at, again);
  if (again != segment.substr(start, offset - start))
    throw Error(Errc::corrupt, where + ": operation is not stored in its one form");
  return op;
}

}  // namespace ferry::bundle
