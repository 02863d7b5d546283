#include "log/codec.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "ferry/error.h"
#include "hash/sha256.h"
#include "log/chain.h"
#include "log/fields.h"
#include "util/uuid.h"

namespace ferry::log {
namespace {

// What a device id is (format4.md §12.9): never of the form of a scope's chain's.
constexpr const char* kDeviceId = "a device id (never of UUID version 8, which names a scope's chain)";

void encode_clock(Encoder& e, const VectorClock& clock) {
  e.array(clock.entries().size());
  for (const auto& [device, seq] : clock.entries()) {
    e.array(2);
    e.bin(device.bytes.data(), 16);
    e.uint(seq);
  }
}

// What follows the causal fields in both formats: table, key, kind, columns, prev_hash.
void encode_change(Encoder& e, const Operation& op) {
  for (std::size_t i = 1; i < op.columns.size(); ++i)
    if (!(op.columns[i - 1].name < op.columns[i].name))
      throw Error(Errc::invalid_argument, "operation columns must be sorted and unique");
  e.str(op.table);
  e.array(op.key.size());
  for (const auto& v : op.key) e.value(v);
  e.uint(static_cast<std::uint64_t>(op.kind));
  e.array(op.columns.size());
  for (const auto& c : op.columns) {
    e.array(2);
    e.str(c.name);
    e.value(c.value);
  }
  e.bin(op.prev_hash.data(), op.prev_hash.size());
}

// `f` points at the five fields encode_change writes.
void decode_change(const msgpack::object* f, Operation& op, const std::string& where) {
  op.table = get_str(f[0], where, "table");
  const auto& key = get_array(f[1], where, "key");
  if (key.size > kMaxArray) bad(where, "key", "at most 4,096 values");
  op.key.reserve(key.size);
  for (std::uint32_t i = 0; i < key.size; ++i) op.key.push_back(get_value(key.ptr[i], where, "key"));
  const auto kind = get_uint(f[2], where, "kind");
  if (kind > 2) bad(where, "kind", "0 (insert), 1 (update) or 2 (delete)");
  op.kind = static_cast<OpKind>(kind);
  const auto& columns = get_array(f[3], where, "columns");
  if (columns.size > kMaxArray) bad(where, "columns", "at most 4,096 columns");
  op.columns.reserve(columns.size);
  for (std::uint32_t i = 0; i < columns.size; ++i) {
    const auto& pair = get_array(columns.ptr[i], where, "column");
    if (pair.size != 2) bad(where, "column", "a [name, value] pair");
    op.columns.push_back({get_str(pair.ptr[0], where, "column name"), get_value(pair.ptr[1], where, "column value")});
  }
  get_bin(f[4], op.prev_hash.data(), 32, where, "prev_hash");
  if (op.key.empty()) bad(where, "key", "a non-empty list of primary-key values");
  if (op.kind == OpKind::remove && !op.columns.empty()) bad(where, "columns", "empty for a delete");
  for (std::size_t i = 1; i < op.columns.size(); ++i)
    if (!(op.columns[i - 1].name < op.columns[i].name)) bad(where, "columns", "sorted by name without duplicates");
}

void decode_counters(const msgpack::object& seq, const msgpack::object& lamport, Operation& op,
                     const std::string& where) {
  op.seq = get_uint(seq, where, "seq");
  op.lamport = get_uint(lamport, where, "lamport");
  if (op.seq == 0 || op.seq > kMaxCounter) bad(where, "seq", "between 1 and 2^62");
  if (op.lamport == 0 || op.lamport > static_cast<std::uint64_t>(INT64_MAX))
    bad(where, "lamport", "between 1 and 2^63-1");
}

std::string encode1(const Operation& op) {
  if (op.clock.get(op.origin) != op.seq)
    throw Error(Errc::invalid_argument, "operation clock must hold its own sequence number");
  Encoder e;
  e.array(11);
  e.uint(1);
  e.bin(op.id.bytes.data(), 16);
  e.bin(op.origin.bytes.data(), 16);
  e.uint(op.seq);
  e.uint(op.lamport);
  encode_clock(e, op.clock);
  encode_change(e, op);
  return e.take();
}

// The name format 2 writes for `chain`: a device's shared chain as it is, a
// scoped chain through `names`, which an operation of scope `scope` may name
// only for a chain of its own scope (format4.md §12.1).
ChainName name_of(const DeviceId& chain, const std::string& scope, const ChainNames* names) {
  if (!is_scoped_chain(chain)) return ChainName{chain, ""};
  if (names == nullptr)
    throw Error(Errc::invalid_argument, "chain " + chain.to_string() + " of a scope needs its name to be encoded");
  ChainName name = names->name(chain);
  if (name.scope.empty() || name.scope != scope || chain_id(name.device, name.scope) != chain)
    throw Error(Errc::invalid_argument, "an operation of scope '" + printable(scope) + "' names chain " +
                                            chain.to_string() + ", of another scope");
  return name;
}

std::string encode2(const Operation& op, const ChainNames* names) {
  if (op.clock.get(op.origin) != 0)
    throw Error(Errc::invalid_argument, "a format 2 operation's deps never name its own chain");
  const auto time_ms = static_cast<std::uint64_t>(op.id.unix_ms());  // The id's first 48 bits.
  if (op.id != util::make_operation_id(static_cast<std::int64_t>(time_ms), op.origin, op.seq))
    throw Error(Errc::invalid_argument, "a format 2 operation's id must be the one its origin, seq and time give");
  if (!op.scope.empty())
    if (const std::string why = scope_problem(op.scope); !why.empty()) throw Error(Errc::invalid_argument, why);
  const ChainName origin = name_of(op.origin, op.scope, names);
  if (origin.scope != op.scope) throw Error(Errc::invalid_argument, "a format 2 operation's origin is not of its scope");
  Encoder e;
  e.array(12);
  e.uint(2);
  e.bin(origin.device.bytes.data(), 16);
  e.str(op.scope);
  e.uint(op.seq);
  e.uint(op.lamport);
  e.uint(time_ms);
  e.array(op.clock.entries().size());
  if (op.scope.empty()) {  // Shared chains only: the clock's order of ids is the order of devices.
    for (const auto& [chain, seq] : op.clock.entries()) {
      if (is_scoped_chain(chain)) (void)name_of(chain, op.scope, names);  // Throws: another scope's chain.
      e.array(3);
      e.bin(chain.bytes.data(), 16);
      e.str("");
      e.uint(seq);
    }
    encode_change(e, op);
    return e.take();
  }
  // By (device, scope), which the order of chain ids is not.
  std::vector<std::pair<ChainName, std::uint64_t>> deps;
  deps.reserve(op.clock.entries().size());
  for (const auto& [chain, seq] : op.clock.entries()) deps.emplace_back(name_of(chain, op.scope, names), seq);
  std::sort(deps.begin(), deps.end(), [](const auto& a, const auto& b) {
    return a.first.device != b.first.device ? a.first.device < b.first.device : a.first.scope < b.first.scope;
  });
  for (const auto& [name, seq] : deps) {
    e.array(3);
    e.bin(name.device.bytes.data(), 16);
    e.str(name.scope);
    e.uint(seq);
  }
  encode_change(e, op);
  return e.take();
}

Operation decode1(const msgpack::object_array& top, const std::string& where) {
  if (top.size != 11) bad(where, "operation", "an array of 11 fields");
  const msgpack::object* f = top.ptr;
  Operation op;
  op.format = 1;
  get_bin(f[1], op.id.bytes.data(), 16, where, "id");
  get_bin(f[2], op.origin.bytes.data(), 16, where, "origin");
  if (is_scoped_chain(op.origin)) bad(where, "origin", kDeviceId);
  decode_counters(f[3], f[4], op, where);
  const auto& clock = get_array(f[5], where, "clock");
  if (clock.size > kMaxArray) bad(where, "clock", "at most 4,096 entries (format 2 has no such limit)");
  std::vector<VectorClock::Entry> entries;  // In the order given: sorted once, not entry by entry.
  entries.reserve(clock.size);
  for (std::uint32_t i = 0; i < clock.size; ++i) {
    const auto& entry = get_array(clock.ptr[i], where, "clock entry");
    if (entry.size != 2) bad(where, "clock entry", "a [device, seq] pair");
    DeviceId device;
    get_bin(entry.ptr[0], device.bytes.data(), 16, where, "clock device");
    if (is_scoped_chain(device)) bad(where, "clock device", kDeviceId);
    const auto seq = get_uint(entry.ptr[1], where, "clock seq");
    if (seq == 0 || seq > kMaxCounter) bad(where, "clock seq", "between 1 and 2^62");
    entries.emplace_back(device, seq);
  }
  op.clock = VectorClock(std::move(entries));
  decode_change(f + 6, op, where);
  if (op.clock.get(op.origin) != op.seq) bad(where, "clock", "holding the operation's own seq for its origin");
  if (op.clock.entries().size() != clock.size) bad(where, "clock", "free of duplicate devices");
  return op;
}

// The chain a (device, scope) name of format 2 stands for, its scope in
// `scope`; a scoped chain is known to `names` from then on.
DeviceId decode_name(const msgpack::object& device_field, const msgpack::object& scope_field,
                     const std::string& where, const char* field, KnownChains& names, std::string& scope) {
  DeviceId device;
  get_bin(device_field, device.bytes.data(), 16, where, field);
  if (is_scoped_chain(device)) bad(where, field, kDeviceId);
  scope = get_str(scope_field, where, field);
  if (scope.empty()) return device;
  if (const std::string why = scope_problem(scope); !why.empty())
    throw Error(Errc::corrupt, where + ": field '" + field + "': " + why);
  return names.add(device, scope);
}

Operation decode2(const msgpack::object_array& top, const std::string& where, KnownChains& names) {
  if (top.size != 12) bad(where, "operation", "an array of 12 fields");
  const msgpack::object* f = top.ptr;
  Operation op;
  op.format = 2;
  op.origin = decode_name(f[1], f[2], where, "origin", names, op.scope);
  decode_counters(f[3], f[4], op, where);
  const std::uint64_t time_ms = get_uint(f[5], where, "time_ms");
  if (time_ms > kMaxTimeMs) bad(where, "time_ms", "at most 2^48-1");
  op.id = util::make_operation_id(static_cast<std::int64_t>(time_ms), op.origin, op.seq);
  const auto& deps = get_array(f[6], where, "deps");
  std::vector<VectorClock::Entry> entries;
  entries.reserve(deps.size);
  std::string scope;
  for (std::uint32_t i = 0; i < deps.size; ++i) {
    const auto& entry = get_array(deps.ptr[i], where, "deps entry");
    if (entry.size != 3) bad(where, "deps entry", "a [device, scope, seq] triple");
    const DeviceId chain = decode_name(entry.ptr[0], entry.ptr[1], where, "deps chain", names, scope);
    if (!scope.empty() && scope != op.scope)
      bad(where, "deps", "naming chains of the operation's own scope and the shared one only");
    const auto seq = get_uint(entry.ptr[2], where, "deps seq");
    if (seq == 0 || seq > kMaxCounter) bad(where, "deps seq", "between 1 and 2^62");
    if (chain == op.origin) bad(where, "deps", "free of the operation's own chain");
    entries.emplace_back(chain, seq);
  }
  op.clock = VectorClock(std::move(entries));
  if (op.clock.entries().size() != deps.size) bad(where, "deps", "free of duplicate chains");
  decode_change(f + 7, op, where);
  return op;
}

}  // namespace

std::string encode(const Operation& op, const ChainNames* names) {
  switch (op.format) {
    case 1:
      if (!op.scope.empty()) throw Error(Errc::invalid_argument, "a format 1 operation has no scope");
      return encode1(op);
    case 2: return encode2(op, names);
    default: throw Error(Errc::invalid_argument, "operation format " + std::to_string(op.format) + " does not exist");
  }
}

namespace {

Operation decode_fields(const msgpack::object& root, const std::string& where, std::uint8_t newest_format,
                        KnownChains& names) {
  const auto& top = get_array(root, where, "operation");
  if (top.size == 0) bad(where, "operation", "a non-empty array");
  const std::uint64_t format = get_uint(top.ptr[0], where, "format");
  if (format > kNewestOperationFormat)
    throw Error(Errc::refused, where + ": operation format " + std::to_string(format) +
                                   " is newer than this ferry understands; upgrade ferry");
  if (format == 0 || format > newest_format)
    throw Error(Errc::corrupt, where + ": operation format " + std::to_string(format) +
                                   (format == 0 ? " does not exist" : " does not belong where it was found"));
  return format == 1 ? decode1(top, where) : decode2(top, where, names);
}

}  // namespace

Operation decode_held(std::string_view bytes, const std::string& where, KnownChains* names) {
  const auto handle = parse_exactly(bytes, where);
  KnownChains local;
  return decode_fields(handle->get(), where, kNewestOperationFormat, names ? *names : local);
}

Operation decode(std::string_view bytes, const std::string& where, std::uint8_t newest_format, KnownChains* names) {
  const auto handle = parse_exactly(bytes, where);
  KnownChains local;
  KnownChains& known = names ? *names : local;
  Operation op = decode_fields(handle->get(), where, newest_format, known);
  // One operation, one byte string: anything the encoder would write differently is refused.
  if (encode(op, &known) != bytes) throw Error(Errc::corrupt, where + ": operation is not canonically encoded");
  return op;
}

std::string encode_values(const std::vector<Value>& values) {
  Encoder e;
  e.array(values.size());
  for (const auto& v : values) e.value(v);
  return e.take();
}

std::vector<Value> decode_values(std::string_view bytes, const std::string& where) {
  const auto handle = parse_exactly(bytes, where);
  const auto& arr = get_array(handle->get(), where, "values");
  std::vector<Value> out;
  if (arr.size > kMaxArray) bad(where, "values", "a list of at most 4,096 values");
  for (std::uint32_t i = 0; i < arr.size; ++i) out.push_back(get_value(arr.ptr[i], where, "value"));
  return out;
}

Hash hash_of(std::string_view encoded) { return hash::sha256(encoded.data(), encoded.size()); }

bool links_to(std::string_view encoded, const Hash& prev) {
  return encoded.size() >= prev.size() + 2 && static_cast<std::uint8_t>(encoded[encoded.size() - prev.size() - 2]) == 0xc4 &&
         static_cast<std::uint8_t>(encoded[encoded.size() - prev.size() - 1]) == prev.size() &&
         std::memcmp(encoded.data() + encoded.size() - prev.size(), prev.data(), prev.size()) == 0;
}

std::string_view unlinked(std::string_view encoded) {
  if (encoded.size() < kLinkBytes) throw Error(Errc::internal, "an operation body is shorter than its link");
  return encoded.substr(0, encoded.size() - kLinkBytes);
}

void relink(std::string_view unlinked_body, const Hash& prev, std::string& out) {
  out.assign(unlinked_body.data(), unlinked_body.size());
  out += static_cast<char>(0xc4);
  out += static_cast<char>(prev.size());
  out.append(reinterpret_cast<const char*>(prev.data()), prev.size());
}

bool has_id(std::string_view encoded, const OperationId& id) {
  // Format 1: array(11), format 1, then the id as bin 16.
  static const unsigned char kStart[] = {0x9b, 0x01, 0xc4, 0x10};
  if (encoded.size() >= sizeof kStart + id.bytes.size() && std::memcmp(encoded.data(), kStart, sizeof kStart) == 0)
    return std::memcmp(encoded.data() + sizeof kStart, id.bytes.data(), id.bytes.size()) == 0;
  // Format 2 carries no id: it follows from origin, seq and time, which are decoded.
  static const unsigned char kStart2[] = {0x9c, 0x02};
  if (encoded.size() < sizeof kStart2 || std::memcmp(encoded.data(), kStart2, sizeof kStart2) != 0) return false;
  return decode(encoded, "operation", kNewestOperationFormat).id == id;
}

std::string encode_clock(const VectorClock& clock) {
  Encoder e;
  encode_clock(e, clock);
  return e.take();
}

VectorClock decode_clock(std::string_view bytes, const std::string& where) {
  const auto handle = parse_exactly(bytes, where);
  const auto& arr = get_array(handle->get(), where, "clock");
  std::vector<VectorClock::Entry> entries;
  entries.reserve(arr.size);
  for (std::uint32_t i = 0; i < arr.size; ++i) {
    const auto& entry = get_array(arr.ptr[i], where, "clock entry");
    if (entry.size != 2) bad(where, "clock entry", "a [device, seq] pair");
    DeviceId device;
    get_bin(entry.ptr[0], device.bytes.data(), 16, where, "clock device");
    const auto seq = get_uint(entry.ptr[1], where, "clock seq");
    if (seq == 0 || seq > kMaxCounter) bad(where, "clock", "a list of distinct devices with sequences between 1 and 2^62");
    entries.emplace_back(device, seq);
  }
  const VectorClock out(std::move(entries));
  if (out.entries().size() != arr.size) bad(where, "clock", "a list of distinct devices with sequences between 1 and 2^62");
  if (encode_clock(out) != bytes) throw Error(Errc::corrupt, where + ": clock is not canonically encoded");
  return out;
}

}  // namespace ferry::log
