#include "support/reseal.h"

#include <cstring>
#include <stdexcept>

#include "bundle/format.h"
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
  if (m.text(6) != "delta" || info.format_major != 3) throw std::runtime_error("reseal: a format-3 delta bundle only");
  info.clock = log::decode_clock(view(m, 7), "reseal");
  info.operations = static_cast<std::size_t>(m.integer(8));
  info.signer_key = exporter.identity().sign;
  copy_blob(m, 9, info.exporter_box_key);
  auto r = db.prepare("SELECT origin, first_seq, last_seq, prev_hash, last_hash, origin_key, head_signature "
                      "FROM ferry_ranges ORDER BY origin");
  while (r.step()) {
    SeqRange range;
    copy_blob(r, 0, range.device.bytes);
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
  auto t = db.prepare("SELECT name, columns, key FROM ferry_tables ORDER BY name");
  while (t.step()) {
    TableInfo table;
    table.name = t.text(0);
    for (const auto& v : log::decode_values(view(t, 1), "reseal")) table.columns.push_back(v.as_text());
    for (const auto& v : log::decode_values(view(t, 2), "reseal")) table.key.push_back(v.as_text());
    info.tables.push_back(table);
  }
  // The content hash: the header, then each operation's hash, its link restored from the one before.
  hash::Sha256 content;
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
  const Hash content_hash = content.finish();
  const Signature signature = exporter.sign(bundle::bundle_message(content_hash));
  auto write = db.prepare("UPDATE ferry_bundle SET content_hash = ?, signer_key = ?, signature = ?");
  write.bind_blob(1, content_hash.data(), 32).bind_blob(2, info.signer_key.data(), 32).bind_blob(3, signature.data(), 64);
  write.run();
}

}  // namespace test
