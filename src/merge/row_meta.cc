#include "merge/row_meta.h"

#include <algorithm>
#include <msgpack.hpp>

#include "ferry/error.h"
#include "util/msgpack_io.h"

namespace ferry::merge {
namespace {

using BytesSink = util::AppendSink<Bytes>;

void pack_frontier(msgpack::packer<BytesSink>& p, const Frontier& f) {
  p.pack_array(static_cast<std::uint32_t>(f.size()));
  for (const auto& s : f) {
    p.pack_array(4);
    p.pack_int64(s.device);
    p.pack_uint64(s.seq);
    p.pack_uint64(s.lamport);
    p.pack(s.removes);
  }
}

const msgpack::object_array& array_of(const msgpack::object& o) {
  if (o.type != msgpack::type::ARRAY) throw msgpack::type_error();
  return o.via.array;
}

std::uint64_t uint_of(const msgpack::object& o) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) throw msgpack::type_error();
  return o.via.u64;
}

Frontier unpack_frontier(const msgpack::object& o) {
  const auto& entries = array_of(o);
  Frontier f;
  f.reserve(entries.size);
  for (std::uint32_t i = 0; i < entries.size; ++i) {
    const auto& a = array_of(entries.ptr[i]);
    if (a.size != 4 || a.ptr[3].type != msgpack::type::BOOLEAN) throw msgpack::type_error();
    f.push_back(Stamp{static_cast<std::int64_t>(uint_of(a.ptr[0])), uint_of(a.ptr[1]), uint_of(a.ptr[2]), a.ptr[3].via.boolean});
  }
  return f;
}

const msgpack::unpack_limit kLimits(/*array=*/1 << 16, /*map=*/0, /*str=*/1 << 16, /*bin=*/0, /*ext=*/0, /*depth=*/5);

}  // namespace

namespace {

void pack_state(msgpack::packer<BytesSink>& p, const RowMeta& meta) {
  p.pack_uint64(meta.conflicted ? 1 : 0);
  pack_frontier(p, meta.exist);
  std::uint32_t n = 0;
  for (const auto& [c, f] : meta.cols) n += f.empty() ? 0 : 1;
  p.pack_array(n);
  for (const auto& [c, f] : meta.cols) {
    if (f.empty()) continue;
    p.pack_array(2);
    p.pack(c);
    if (f == meta.exist)
      p.pack_nil();  // Written by the same operations as existence: the common case.
    else
      pack_frontier(p, f);
  }
}

// The three fields pack_state writes, from `f`.
RowMeta unpack_state(const msgpack::object* f) {
  RowMeta meta;
  meta.conflicted = (uint_of(f[0]) & 1) != 0;
  meta.exist = unpack_frontier(f[1]);
  const auto& cols = array_of(f[2]);
  meta.cols.reserve(cols.size);
  for (std::uint32_t i = 0; i < cols.size; ++i) {
    const auto& pair = array_of(cols.ptr[i]);
    if (pair.size != 2 || pair.ptr[0].type != msgpack::type::STR) throw msgpack::type_error();
    meta.cols.emplace_back(std::string(pair.ptr[0].via.str.ptr, pair.ptr[0].via.str.size),
                           pair.ptr[1].type == msgpack::type::NIL ? meta.exist : unpack_frontier(pair.ptr[1]));
  }
  return meta;
}

bool shared_only(const RowStates& states) { return states.size() == 1 && states[0].scope.empty(); }

}  // namespace

RowMeta& state_of(RowStates& states, const std::string& scope) {
  auto at = std::lower_bound(states.begin(), states.end(), scope,
                             [](const RowMeta& m, const std::string& s) { return m.scope < s; });
  if (at != states.end() && at->scope == scope) return *at;
  RowMeta fresh;
  fresh.scope = scope;
  return *states.insert(at, std::move(fresh));
}

Bytes encode_meta(const RowStates& states) {
  BytesSink buffer;
  buffer.out.reserve(64);  // A row written by one insert of a few columns fits.
  msgpack::packer<BytesSink> p(buffer);
  if (states.empty() || shared_only(states)) {  // No operation left (a rebuilt row): as one with empty frontiers.
    p.pack_array(3);
    pack_state(p, states.empty() ? RowMeta() : states[0]);
    return std::move(buffer.out);
  }
  p.pack_array(static_cast<std::uint32_t>(4 * states.size()));
  for (const RowMeta& state : states) {
    pack_state(p, state);
    p.pack(state.scope);
  }
  return std::move(buffer.out);
}

RowStates decode_meta(std::string_view bytes, const std::string& where) {
  try {
    std::size_t off = 0;
    const util::Unpacked h(bytes, off, kLimits);  // Column names point into `bytes`, which outlives `h`.
    const auto& top = array_of(h.get());
    if (off != bytes.size()) throw msgpack::type_error();
    RowStates states;
    if (top.size == 3) {
      states.push_back(unpack_state(top.ptr));
      return states;
    }
    if (top.size == 0 || top.size % 4 != 0) throw msgpack::type_error();
    states.reserve(top.size / 4);
    for (std::uint32_t i = 0; i < top.size; i += 4) {
      if (top.ptr[i + 3].type != msgpack::type::STR) throw msgpack::type_error();
      RowMeta state = unpack_state(top.ptr + i);
      state.scope.assign(top.ptr[i + 3].via.str.ptr, top.ptr[i + 3].via.str.size);
      if (!states.empty() && !(states.back().scope < state.scope)) throw msgpack::type_error();
      states.push_back(std::move(state));
    }
    if (shared_only(states)) throw msgpack::type_error();  // Its one form is the first.
    return states;
  } catch (const std::exception& e) {
    throw Error(Errc::corrupt, where + ": ferry_rows holds malformed merge state (" + e.what() + ")");
  }
}

Frontier& RowMeta::cell(const std::string& column) {
  for (auto& [name, f] : cols)
    if (name == column) return f;
  return cols.emplace_back(column, Frontier{}).second;
}

const Frontier* RowMeta::find(const std::string& column) const {
  for (const auto& [name, f] : cols)
    if (name == column) return &f;
  return nullptr;
}

bool exists(const RowMeta& meta, const std::function<const Stamp*(const Frontier&)>& winner) {
  const Stamp* w = winner(meta.exist);
  return w != nullptr && !w->removes;
}

}  // namespace ferry::merge
