#include "support/reseal.h"

#include <cstring>
#include <stdexcept>

#include <msgpack.hpp>

#include "bundle/format.h"
#include "bundle/segment.h"
#include "bundle/stored.h"
#include "hash/sha256.h"
#include "log/codec.h"
#include "support/support.h"

namespace test {
namespace {

template <typename Array>
void copy_blob(ferry::sql::Statement& st, int col, Array& out) {
  const std::string_view b = st.blob_view(col);
  if (b.size() != out.size()) throw std::runtime_error("reseal: a field has the wrong size");
  std::memcpy(out.data(), b.data(), out.size());
}

std::string_view view(ferry::sql::Statement& st, int col) { return st.blob_view(col); }

// The range's fields after its first column (origin in 3.0, chain in 4.0).
void read_range(ferry::sql::Statement& r, const ferry::DeviceId& device, ferry::BundleInfo& info) {
  using namespace ferry;
  SeqRange range;
  range.device = device;
  range.first = static_cast<std::uint64_t>(r.integer(1));
  range.last = static_cast<std::uint64_t>(r.integer(2));
  info.ranges.push_back(range);
  info.prerequisites.emplace_back();
  copy_blob(r, 3, info.prerequisites.back());
  info.last_hashes.emplace_back();
  copy_blob(r, 4, info.last_hashes.back());
  info.origin_keys.emplace_back();
  copy_blob(r, 5, info.origin_keys.back());
  info.head_signatures.emplace_back();
  copy_blob(r, 6, info.head_signatures.back());
}

// ferry_tables, ordered by `order` (3.0: name; 4.0: number, which is name order too).
void read_tables(ferry::sql::Database& db, const std::string& order, ferry::BundleInfo& info) {
  using namespace ferry;
  auto t = db.prepare("SELECT name, columns, key FROM ferry_tables ORDER BY " + order);
  while (t.step()) {
    TableInfo table;
    table.name = t.text(0);
    for (const auto& v : log::decode_values(view(t, 1), "reseal")) table.columns.push_back(v.as_text());
    for (const auto& v : log::decode_values(view(t, 2), "reseal")) table.key.push_back(v.as_text());
    info.tables.push_back(table);
  }
}

// 4.0: the numbered clock and chains; the operations' hashes from the segments'
// stored forms (format 1: [nil, body without link]), then the frames' hashes.
void content4(ferry::sql::Database& db, ferry::BundleInfo& info, std::string_view clock, ferry::hash::Sha256& content) {
  using namespace ferry;
  bundle::Chains chains;
  auto c = db.prepare("SELECT device FROM ferry_chains ORDER BY number");
  while (c.step()) {
    chains.devices.emplace_back();
    copy_blob(c, 0, chains.devices.back().bytes);
  }
  if (info.format_minor >= 1) {  // 4.1: the addressee and the reference the clock is written against.
    auto a = db.prepare("SELECT device, reference FROM ferry_addressee");
    if (a.step()) {
      copy_blob(a, 0, info.addressee.emplace().bytes);
      if (!a.is_null(1)) copy_blob(a, 1, info.reference.emplace().bytes);
    }
  }
  const auto handle = msgpack::unpack(clock.data(), clock.size());
  for (const auto& entry : handle.get().as<std::vector<std::vector<std::uint64_t>>>()) {
    const DeviceId& device = chains.devices.at(entry.at(0) - 1);
    if (entry.at(1) == 0) info.clock_dropped.push_back(device);
    else info.clock.set(device, entry.at(1));
  }
  auto r = db.prepare("SELECT chain, first_seq, last_seq, prev_hash, last_hash, origin_key, head_signature "
                      "FROM ferry_ranges ORDER BY chain");
  while (r.step()) read_range(r, chains.devices.at(static_cast<std::size_t>(r.integer(0)) - 1), info);
  read_tables(db, "number", info);
  content.update(bundle::encode_header(info, chains));
  hash::Sha256 frames;
  std::string canonical;
  std::vector<bundle::TableShape> shapes;
  for (const auto& t : info.tables) shapes.push_back({t.name, t.columns});
  const bundle::StoredForms forms(chains.devices, std::move(shapes));
  std::uint64_t chain = 0;
  bundle::Position at;  // Where the next operation sits in its range (a delta bundle: one range per chain).
  auto segments = db.prepare("SELECT chain, first_seq, count, raw_size, data FROM ferry_segments ORDER BY chain, first_seq");
  while (segments.step()) {
    if (static_cast<std::uint64_t>(segments.integer(0)) != chain) {
      chain = static_cast<std::uint64_t>(segments.integer(0));
      const DeviceId& device = chains.devices.at(chain - 1);
      std::size_t range = 0;
      while (info.ranges.at(range).device != device) ++range;
      at = bundle::Position{};
      at.origin = device;
      at.prev_hash = info.prerequisites[range];
    }
    at.seq = static_cast<std::uint64_t>(segments.integer(1));
    const Hash frame = hash::Sha256().update(view(segments, 4)).finish();
    frames.update(frame.data(), frame.size());
    const std::string raw = bundle::SegmentDecompressor().decompress(
        view(segments, 4), static_cast<std::size_t>(segments.integer(3)), bundle::kMaxSegmentBytes, "reseal");
    std::size_t offset = 0;
    for (auto n = segments.integer(2); n > 0; --n, ++at.seq) {
      Operation op;
      if (bundle::StoredForms::rebuild_format1(raw, offset, at.prev_hash, canonical, "reseal"))
        op = log::decode(canonical, "reseal");
      else
        op = forms.decode(raw, offset, at, canonical, "reseal");
      at.prev_lamport = op.lamport;
      at.prev_time_ms = static_cast<std::uint64_t>(op.id.unix_ms());
      at.prev_hash = log::hash_of(canonical);
      content.update(at.prev_hash.data(), at.prev_hash.size());
    }
  }
  const Hash all_frames = frames.finish();
  content.update(all_frames.data(), all_frames.size());
}

void sign(ferry::sql::Database& db, const ferry::Hash& content_hash, const ferry::BundleInfo& info,
          const ferry::trust::KeyPair& exporter) {
  const ferry::Signature signature = exporter.sign(ferry::bundle::bundle_message(content_hash));
  auto write = db.prepare("UPDATE ferry_bundle SET content_hash = ?, signer_key = ?, signature = ?");
  write.bind_blob(1, content_hash.data(), 32).bind_blob(2, info.signer_key.data(), 32).bind_blob(3, signature.data(), 64);
  write.run();
}

}  // namespace

void reseal(const std::string& bundle, const ferry::trust::KeyPair& exporter) {
  using namespace ferry;
  auto db = app(bundle);
  BundleInfo info;
  auto m = db.prepare("SELECT format_major, format_minor, bundle_id, exporter, exporter_name, created_ms, kind, clock, "
                      "operations, box_key FROM ferry_bundle");
  if (!m.step()) throw std::runtime_error("reseal: no manifest");
  info.format_major = static_cast<std::uint32_t>(m.integer(0));
  info.format_minor = static_cast<std::uint32_t>(m.integer(1));
  copy_blob(m, 2, info.bundle_id.bytes);
  copy_blob(m, 3, info.exporter.bytes);
  info.exporter_name = m.text(4);
  info.created_ms = m.integer(5);
  if (m.text(6) != "delta" || info.format_major < 3) throw std::runtime_error("reseal: a delta bundle of format 3 or 4 only");
  info.operations = static_cast<std::size_t>(m.integer(8));
  info.signer_key = exporter.identity().sign;
  copy_blob(m, 9, info.exporter_box_key);
  hash::Sha256 content;
  if (info.format_major >= 4) {
    content4(db, info, view(m, 7), content);
    return sign(db, content.finish(), info, exporter);
  }
  info.clock = log::decode_clock(view(m, 7), "reseal");
  auto r = db.prepare("SELECT origin, first_seq, last_seq, prev_hash, last_hash, origin_key, head_signature "
                      "FROM ferry_ranges ORDER BY origin");
  while (r.step()) {
    DeviceId origin;
    copy_blob(r, 0, origin.bytes);
    read_range(r, origin, info);
  }
  read_tables(db, "name", info);
  // The content hash: the header, then each operation's hash, its link restored from the one before.
  content.update(bundle::encode_header(info));
  auto ops = db.prepare("SELECT origin, body FROM ferry_ops ORDER BY origin, seq");
  std::size_t range = 0;
  DeviceId current;
  bool first = true;
  Hash prev{};
  std::string relinked;
  while (ops.step()) {
    DeviceId origin;
    copy_blob(ops, 0, origin.bytes);
    if (first || origin != current) {
      while (range < info.ranges.size() && info.ranges[range].device != origin) ++range;
      if (range == info.ranges.size()) throw std::runtime_error("reseal: an operation outside every range");
      prev = info.prerequisites[range];
      current = origin;
      first = false;
    }
    log::relink(view(ops, 1), prev, relinked);
    prev = log::hash_of(relinked);
    content.update(prev.data(), prev.size());
  }
  sign(db, content.finish(), info, exporter);
}

}  // namespace test
