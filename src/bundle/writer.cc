#include "bundle/writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bundle/format.h"
#include "ferry/error.h"
#include "log/codec.h"
#include "util/files.h"

namespace ferry::bundle {
namespace {

// Runs `step` of writing the bundle for `target`; a failure names the bundle the
// person asked for (not the temporary file) and says that nothing was written there.
template <typename F>
auto writing(const std::string& target, F&& step) -> decltype(step()) {
  try {
    return step();
  } catch (const Error& e) {
    throw Error(e.code(), target + ": cannot write the bundle, so none was written there: " + e.what());
  }
}

}  // namespace

Writer::Writer(const std::string& target, BundleInfo info, const trust::KeyPair& signer,
               std::vector<DeviceId> also_named)
    : target_(target), info_(std::move(info)), signer_(signer), also_named_(std::move(also_named)) {
  if (info_.origin_keys.size() != info_.ranges.size() || info_.head_signatures.size() != info_.ranges.size())
    throw Error(Errc::internal, target + ": every range of a bundle needs its origin's key and head signature");
  struct stat st;
  if (::stat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(Errc::invalid_argument, target + ": is a folder; give a file name for the bundle");
  std::string tmpl = util::temp_template(util::folder_of(target), ".ferry-export-");
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    throw Error(Errc::database, target + ": cannot create a file in " + util::folder_of(target) + ": " + std::strerror(errno));
  ::close(fd);
  temp_ = std::move(tmpl);  // A copy could fail for memory, leaving the file behind unnamed.
  try {
    writing(target_, [&] { start(); });
  } catch (...) {
    discard();
    throw;
  }
}

void Writer::start() {
  const bool four = info_.format_major >= 4;
  db_ = std::make_unique<sql::Database>(temp_, sql::Database::Mode::open);
  db_->exec("PRAGMA page_size=" + std::to_string(kPageSize) + "; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            " PRAGMA application_id=" + std::to_string(kApplicationId) + "; PRAGMA user_version=" +
            std::to_string(info_.format_major));
  db_->exec(four ? kSchema4Sql : kSchemaSql);
  if (four && info_.format_minor >= 1) db_->exec(kSchema41Sql);
  if (four && info_.format_minor >= kScopesMinor) db_->exec(kSchema42Sql);
  db_->exec("BEGIN");
  if (four) start4();  // The chains, by which 4.0's ranges name their devices.
  auto ranges = db_->prepare("INSERT INTO ferry_ranges VALUES(?, ?, ?, ?, ?, ?, ?)");
  for (std::size_t i = 0; i < info_.ranges.size(); ++i) {
    const auto& r = info_.ranges[i];
    if (four) ranges.bind(1, static_cast<std::int64_t>(chains_.number(r.device)));
    else ranges.bind_blob(1, r.device.bytes.data(), 16);
    ranges.bind(2, static_cast<std::int64_t>(r.first))
        .bind(3, static_cast<std::int64_t>(r.last))
        .bind_blob(4, info_.prerequisites[i].data(), 32)
        .bind_blob(5, info_.last_hashes[i].data(), 32)
        .bind_blob(6, info_.origin_keys[i].data(), 32)
        .bind_blob(7, info_.head_signatures[i].data(), 64);
    ranges.run();
  }
  // 4.0 numbers the tables (in name order, as info has them) in a first column.
  auto tables = db_->prepare(four ? "INSERT INTO ferry_tables VALUES(?, ?, ?, ?)" : "INSERT INTO ferry_tables VALUES(?, ?, ?)");
  for (std::size_t i = 0; i < info_.tables.size(); ++i) {
    const auto& t = info_.tables[i];
    std::vector<Value> cols, key;
    for (const auto& c : t.columns) cols.push_back(Value::text(c));
    for (const auto& k : t.key) key.push_back(Value::text(k));
    const std::string c = log::encode_values(cols), k = log::encode_values(key);
    const int at = four ? 2 : 1;
    if (four) tables.bind(1, static_cast<std::int64_t>(i + 1));
    tables.bind(at, t.name).bind_blob(at + 1, c.data(), c.size()).bind_blob(at + 2, k.data(), k.size());
    tables.run();
  }
  if (!four) ops_.emplace(*db_, "INSERT INTO ferry_ops(origin, seq, body)", true);
  content_.update(encode_header(info_, chains_));
}

void Writer::discard() {
  ops_.reset();
  add_row_.reset();
  db_.reset();
  ::unlink(temp_.c_str());
}

Writer::~Writer() {
  if (!published_) discard();
}

void Writer::add(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body) {
  if (info_.format_major >= 4) {
    writing(target_, [&] { add4(origin, seq, body); });
    content_.update(hash.data(), hash.size());
    ++added_;
    return;
  }
  if (body.size() > 1 && body[1] != 1)
    throw Error(Errc::refused, target_ + ": operation " + std::to_string(seq) + " of device " + origin.to_string() +
                                   " is of a format bundle format " + std::to_string(info_.format_major) +
                                   " cannot carry: export format 4, which ferry 4 reads, and upgrade the peer (`ferry "
                                   "compat DB 3` makes what this device seals from then on readable by ferry 3.x)");
  if (!bodies_carry_links(info_)) body = log::unlinked(body);
  writing(target_, [&] {
    if (origin_ != origin) {
      ops_->set_leading(std::string_view(reinterpret_cast<const char*>(origin.bytes.data()), origin.bytes.size()));
      origin_ = origin;
    }
    ops_->add(static_cast<std::int64_t>(seq), body);
  });
  content_.update(hash.data(), hash.size());
  ++added_;
}

void Writer::add_causal_row(const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq) {
  writing(target_, [&] { add_row4(chain, dep, seq, dep_seq); });
}

BundleInfo Writer::finish() {
  if (added_ != info_.operations)
    throw Error(Errc::internal, target_ + ": export wrote " + std::to_string(added_) + " operations but announced " +
                                    std::to_string(info_.operations));
  if (info_.format_major >= 4) {
    writing(target_, [&] { flush_segment(); });
    const Hash frames = frames_.finish();  // So that no bit of a frame changes unnoticed (format4.md §5).
    content_.update(frames.data(), frames.size());
    if (info_.snapshot) {
      const Hash rows = writing(target_, [&] { return causal_rows_hash(); });
      content_.update(rows.data(), rows.size());
    }
  }
  info_.content_hash = content_.finish();
  info_.signature = signer_.sign(bundle_message(info_.content_hash));
  writing(target_, [&] {
    if (ops_) ops_->flush();
    write_manifest(info_.format_major >= 4 ? encode_numbered_clock(info_, chains_) : log::encode_clock(info_.clock));
    db_->exec("COMMIT");
  });
  return closed();
}

void Writer::write_manifest(const std::string& clock) {
  // The columns of 3.0 and 4.0 alike; only the clock's encoding differs.
  auto manifest = db_->prepare("INSERT INTO ferry_bundle VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  manifest.bind(1, static_cast<std::int64_t>(info_.format_major))
      .bind(2, static_cast<std::int64_t>(info_.format_minor))
      .bind_blob(3, info_.bundle_id.bytes.data(), 16)
      .bind_blob(4, info_.exporter.bytes.data(), 16)
      .bind(5, info_.exporter_name)
      .bind(6, info_.created_ms)
      .bind(7, std::string_view(info_.snapshot ? "snapshot" : "delta"))
      .bind_blob(8, clock.data(), clock.size())
      .bind(9, static_cast<std::int64_t>(info_.operations))
      .bind_blob(10, info_.content_hash.data(), 32)
      .bind_blob(11, info_.signer_key.data(), 32)
      .bind_blob(12, info_.exporter_box_key.data(), 32)
      .bind_blob(13, info_.signature.data(), 64);
  manifest.run();
}

BundleInfo Writer::closed() {
  ops_.reset();
  add_row_.reset();
  db_.reset();  // Closed: every page is in the file (publish() makes it durable).
  struct stat st;
  if (::stat(temp_.c_str(), &st) == 0) info_.bytes = static_cast<std::uint64_t>(st.st_size);
  return info_;
}

void Writer::publish() {
  util::publish(temp_, target_, "bundle");
  published_ = true;
}

}  // namespace ferry::bundle
