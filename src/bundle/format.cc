#include "bundle/format.h"

#include <msgpack.hpp>

#include "ferry/error.h"
#include "log/codec.h"

namespace ferry::bundle {

std::string encode_header(const BundleInfo& info) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  auto bin = [&](const void* data, std::size_t n) {
    p.pack_bin(static_cast<std::uint32_t>(n));
    p.pack_bin_body(static_cast<const char*>(data), static_cast<std::uint32_t>(n));
  };
  auto str = [&](const std::string& s) {
    p.pack_str(static_cast<std::uint32_t>(s.size()));
    p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  };
  p.pack_array(14);
  str("ferry-bundle");
  p.pack_uint64(info.format_major);
  p.pack_uint64(info.format_minor);
  bin(info.bundle_id.bytes.data(), 16);
  bin(info.exporter.bytes.data(), 16);
  str(info.exporter_name);
  p.pack_int64(info.created_ms);
  str(info.snapshot ? "snapshot" : "delta");
  const std::string clock = log::encode_clock(info.clock);
  buffer.write(clock.data(), clock.size());
  p.pack_array(static_cast<std::uint32_t>(info.ranges.size()));
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    p.pack_array(7);
    bin(info.ranges[i].device.bytes.data(), 16);
    p.pack_uint64(info.ranges[i].first);
    p.pack_uint64(info.ranges[i].last);
    bin(info.prerequisites[i].data(), 32);
    bin(info.last_hashes[i].data(), 32);
    bin(info.origin_keys[i].data(), 32);
    bin(info.head_signatures[i].data(), 64);
  }
  p.pack_array(static_cast<std::uint32_t>(info.tables.size()));
  for (const auto& t : info.tables) {
    p.pack_array(3);
    str(t.name);
    p.pack_array(static_cast<std::uint32_t>(t.columns.size()));
    for (const auto& c : t.columns) str(c);
    p.pack_array(static_cast<std::uint32_t>(t.key.size()));
    for (const auto& k : t.key) str(k);
  }
  p.pack_uint64(info.operations);
  bin(info.signer_key.data(), 32);
  bin(info.exporter_box_key.data(), 32);
  return std::string(buffer.data(), buffer.size());
}

std::string head_message(const DeviceId& origin, std::uint64_t seq, const Hash& hash) {
  std::string out("ferry-head-v1", 14);  // With its terminating NUL: a domain tag no other message starts with.
  out.append(reinterpret_cast<const char*>(origin.bytes.data()), 16);
  for (int i = 7; i >= 0; --i) out += static_cast<char>(seq >> (8 * i));
  out.append(reinterpret_cast<const char*>(hash.data()), 32);
  return out;
}

std::string bundle_message(const Hash& content_hash) {
  std::string out("ferry-bundle-v2", 16);
  out.append(reinterpret_cast<const char*>(content_hash.data()), 32);
  return out;
}


}  // namespace ferry::bundle
