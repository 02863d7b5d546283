#include "bundle/format.h"

#include <algorithm>

#include <msgpack.hpp>

#include "ferry/error.h"
#include "log/chain.h"
#include "log/codec.h"
#include "log/fields.h"

namespace ferry::bundle {
namespace {

// The 4.0 header (format4.md §5): 3.0's with chains by number; in 4.1, with
// the addressee and the reference the clock is written against last.
std::string encode_header4(const BundleInfo& info, const Chains& chains) {
  log::Encoder e;
  e.array(info.format_minor >= 1 ? 17 : 15);  // 4.2 is 4.1's.
  e.str("ferry-bundle");
  e.uint(info.format_major);
  e.uint(info.format_minor);
  e.bin(info.bundle_id.bytes.data(), 16);
  e.bin(info.exporter.bytes.data(), 16);
  e.str(info.exporter_name);
  e.integer(info.created_ms);
  e.str(info.snapshot ? "snapshot" : "delta");
  std::string out = e.take();
  out += encode_numbered_clock(info, chains);
  e.array(chains.devices.size());
  for (const auto& chain : chains.devices) {
    const log::ChainName name = chains.names.name(chain);
    e.array(2);
    e.bin(name.device.bytes.data(), 16);
    e.str(name.scope);
  }
  e.array(info.ranges.size());
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    e.array(7);
    e.uint(chains.number(info.ranges[i].device));
    e.uint(info.ranges[i].first);
    e.uint(info.ranges[i].last);
    e.bin(info.prerequisites[i].data(), 32);
    e.bin(info.last_hashes[i].data(), 32);
    e.bin(info.origin_keys[i].data(), 32);
    e.bin(info.head_signatures[i].data(), 64);
  }
  e.array(info.tables.size());
  for (const auto& t : info.tables) {
    e.array(info.format_minor >= kScopesMinor ? 4 : 3);
    e.str(t.name);
    e.array(t.columns.size());
    for (const auto& c : t.columns) e.str(c);
    e.array(t.key.size());
    for (const auto& k : t.key) e.str(k);
    if (info.format_minor >= kScopesMinor) e.str(t.scope);
    else if (!t.scope.empty()) throw Error(Errc::internal, "a scoped table in a bundle older than 4.2");
  }
  e.uint(info.operations);
  e.bin(info.signer_key.data(), 32);
  e.bin(info.exporter_box_key.data(), 32);
  if (info.format_minor >= 1) {  // 4.2: a bundle for no one in particular has none.
    if (!info.addressee && info.format_minor < kScopesMinor) throw Error(Errc::internal, "a 4.1 bundle without an addressee");
    if (info.addressee) e.bin(info.addressee->bytes.data(), 16);
    else e.nil();
    if (info.reference) e.bin(info.reference->bytes.data(), 16);
    else e.nil();
  }
  e.append_to(out);
  return out;
}

}  // namespace

Chains Chains::of(const BundleInfo& info, const std::vector<DeviceId>& also) {
  Chains chains{also, {}};
  for (const ScopedChain& c : info.scoped_chains)
    if (chains.names.add(c.device, c.scope) != c.chain)
      throw Error(Errc::internal, "chain " + c.chain.to_string() + " is not the one its device and scope give");
  for (const auto& [device, seq] : info.clock.entries()) chains.devices.push_back(device);
  for (const DeviceId& device : info.clock_dropped) chains.devices.push_back(device);
  for (const auto& r : info.ranges) chains.devices.push_back(r.device);
  std::sort(chains.devices.begin(), chains.devices.end());
  chains.devices.erase(std::unique(chains.devices.begin(), chains.devices.end()), chains.devices.end());
  for (const DeviceId& id : chains.devices)
    if (log::is_scoped_chain(id)) (void)chains.names.name(id);  // Throws for a chain the info does not name.
  return chains;
}

bool Chains::any_scoped() const {
  return std::any_of(devices.begin(), devices.end(), [](const DeviceId& id) { return log::is_scoped_chain(id); });
}

std::uint64_t Chains::number(const DeviceId& device) const {
  const auto at = std::lower_bound(devices.begin(), devices.end(), device);
  return at != devices.end() && *at == device ? static_cast<std::uint64_t>(at - devices.begin()) + 1 : 0;
}

std::string encode_causal_row(std::uint64_t chain, std::uint64_t dep, std::uint64_t seq, std::uint64_t dep_seq) {
  log::Encoder e;
  e.array(4);
  for (const std::uint64_t field : {chain, dep, seq, dep_seq}) e.uint(field);
  return e.take();
}

std::string encode_numbered_clock(const BundleInfo& info, const Chains& chains) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> entries;  // (chain, seq); seq 0: dropped.
  entries.reserve(info.clock.entries().size() + info.clock_dropped.size());
  for (const auto& [device, seq] : info.clock.entries()) entries.emplace_back(chains.number(device), seq);
  for (const DeviceId& device : info.clock_dropped) entries.emplace_back(chains.number(device), 0);
  std::sort(entries.begin(), entries.end());  // By number: device order.
  log::Encoder e;
  e.array(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].first == 0 || (i > 0 && entries[i].first == entries[i - 1].first))
      throw Error(Errc::internal, "the bundle's clock names a chain it does not number, or one twice");
    e.array(2);
    e.uint(entries[i].first);
    e.uint(entries[i].second);
  }
  return e.take();
}

std::string encode_header(const BundleInfo& info, const Chains& chains) {
  if (info.format_major >= 4) return encode_header4(info, chains);
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

std::string head_message(const DeviceId& origin, const std::string& scope, std::uint64_t seq, const Hash& hash) {
  if (scope.empty()) return head_message(origin, seq, hash);
  if (scope.size() > log::kMaxScopeBytes) throw Error(Errc::invalid_argument, "a scope name longer than 128 bytes");
  std::string out("ferry-head-v2", 14);
  out.append(reinterpret_cast<const char*>(origin.bytes.data()), 16);
  out += static_cast<char>(scope.size());
  out += scope;
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
