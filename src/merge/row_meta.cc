#include "merge/row_meta.h"

#include <msgpack.hpp>

#include "ferry/error.h"
#include "merge/merger.h"

namespace ferry::merge {
namespace {

void pack_frontier(msgpack::packer<msgpack::sbuffer>& p, const Frontier& f) {
  p.pack_array(static_cast<std::uint32_t>(f.size()));
  for (const auto& s : f) {
    p.pack_array(4);
    p.pack_int64(s.device);
    p.pack_uint64(s.seq);
    p.pack_uint64(s.lamport);
    p.pack(s.removes);
  }
}

Frontier unpack_frontier(const msgpack::object& o) {
  Frontier f;
  for (const auto& e : o.as<std::vector<msgpack::object>>()) {
    const auto a = e.as<std::vector<msgpack::object>>();
    if (a.size() != 4) throw msgpack::type_error();
    f.push_back(Stamp{a[0].as<std::int64_t>(), a[1].as<std::uint64_t>(), a[2].as<std::uint64_t>(), a[3].as<bool>()});
  }
  return f;
}

const msgpack::unpack_limit kLimits(/*array=*/1 << 16, /*map=*/0, /*str=*/1 << 16, /*bin=*/0, /*ext=*/0, /*depth=*/5);

}  // namespace

Bytes encode_meta(const RowMeta& meta) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_array(3);
  p.pack_uint64(meta.conflicted ? 1 : 0);
  pack_frontier(p, meta.exist);
  std::uint32_t n = 0;
  for (const auto& [c, f] : meta.cols) n += f.empty() ? 0 : 1;
  p.pack_array(n);
  for (const auto& [c, f] : meta.cols) {
    if (f.empty()) continue;
    p.pack_array(2);
    p.pack(c);
    pack_frontier(p, f);
  }
  const auto* d = reinterpret_cast<const std::uint8_t*>(buffer.data());
  return Bytes(d, d + buffer.size());
}

RowMeta decode_meta(const Bytes& bytes, const std::string& where) {
  try {
    std::size_t off = 0;
    auto h = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), off, nullptr, nullptr, kLimits);
    const auto top = h.get().as<std::vector<msgpack::object>>();
    if (top.size() != 3 || off != bytes.size()) throw msgpack::type_error();
    RowMeta meta;
    meta.conflicted = (top[0].as<std::uint64_t>() & 1) != 0;
    meta.exist = unpack_frontier(top[1]);
    for (const auto& e : top[2].as<std::vector<msgpack::object>>()) {
      const auto pair = e.as<std::vector<msgpack::object>>();
      if (pair.size() != 2) throw msgpack::type_error();
      meta.cols[pair[0].as<std::string>()] = unpack_frontier(pair[1]);
    }
    return meta;
  } catch (const std::exception& e) {
    throw Error(Errc::corrupt, where + ": ferry_rows holds malformed merge state (" + e.what() + ")");
  }
}

bool exists(const RowMeta& meta, const std::function<const Stamp*(const Frontier&)>& winner) {
  const Stamp* w = winner(meta.exist);
  return w != nullptr && !w->removes;
}

}  // namespace ferry::merge
