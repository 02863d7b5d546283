// The format 4.0 half of Writer (bundle_format/format4.md §5, §6): numbered
// chains and tables, and operations in their stored forms, gathered per chain
// into segments of at most kMaxSegmentBytes before compression.

#include "bundle/writer.h"

#include "ferry/error.h"
#include "log/codec.h"
#include "log/fields.h"

namespace ferry::bundle {
namespace {

std::uint8_t format_of(std::string_view body) {
  // Both formats start with a fixarray and then their format as a positive fixint.
  return body.size() > 1 ? static_cast<std::uint8_t>(body[1]) : 0;
}

}  // namespace

void Writer::start4() {
  chains_ = Chains::of(info_, also_named_);
  std::vector<TableShape> shapes;
  for (const auto& t : info_.tables) shapes.push_back({t.name, t.columns});
  if (chains_.any_scoped() && info_.format_minor < kScopesMinor)
    throw Error(Errc::internal, "a bundle naming a chain of a scope must be 4.2");
  stored_ = std::make_unique<StoredForms>(chains_.devices, std::move(shapes), chains_.names);
  compressor_ = std::make_unique<SegmentCompressor>();
  auto chains = db_->prepare("INSERT INTO ferry_chains VALUES(?, ?, ?)");
  for (std::size_t i = 0; i < chains_.devices.size(); ++i) {
    const log::ChainName name = chains_.names.name(chains_.devices[i]);
    chains.bind(1, static_cast<std::int64_t>(i + 1)).bind_blob(2, name.device.bytes.data(), 16);
    chains.bind(3, std::string_view(name.scope));
    chains.run();
  }
  if (info_.format_minor >= kScopesMinor) {  // 4.2: each scoped table's expression.
    auto scopes = db_->prepare("INSERT INTO ferry_table_scopes VALUES(?, ?)");
    for (std::size_t i = 0; i < info_.tables.size(); ++i) {
      if (info_.tables[i].scope.empty()) continue;
      scopes.bind(1, static_cast<std::int64_t>(i + 1)).bind(2, std::string_view(info_.tables[i].scope));
      scopes.run();
    }
  }
  if (info_.format_minor >= 1 && info_.addressee) {  // 4.1: who it is for, and what its clock is written against.
    auto addressee = db_->prepare("INSERT INTO ferry_addressee VALUES(?, ?)");
    addressee.bind_blob(1, info_.addressee->bytes.data(), 16);
    if (info_.reference) addressee.bind_blob(2, info_.reference->bytes.data(), 16);
    else addressee.bind_null(2);
    addressee.run();
  }
}

void Writer::add4(const DeviceId& origin, std::uint64_t seq, std::string_view body) {
  const std::uint64_t chain = chains_.number(origin);
  if (chain == 0) throw Error(Errc::internal, "operation of device " + origin.to_string() + " outside every range");
  // A delta's segment holds consecutive operations of one chain; a snapshot's
  // the chain's frontier operations, each after its seq and link.
  const bool continues = chain == segment_chain_ && (info_.snapshot || seq == segment_first_ + segment_count_);
  const std::size_t estimate = body.size() + 48;
  if (!raw_.empty() && (!continues || raw_.size() + estimate > kMaxSegmentBytes)) flush_segment();
  if (chain != segment_chain_) {  // A new range: its first operation carries its whole times.
    at_ = Position{};
    at_.origin = origin;
    previous_body_.clear();
  }
  if (raw_.empty()) {
    segment_chain_ = chain;
    segment_first_ = seq;
    segment_count_ = 0;
  }
  at_.seq = seq;
  const std::string_view link = body.substr(body.size() - 32);
  std::memcpy(at_.prev_hash.data(), link.data(), 32);
  if (info_.snapshot) {
    log::Encoder e;
    e.uint(seq);
    e.bin(link.data(), 32);
    e.append_to(raw_);
    at_.prev_lamport = at_.prev_time_ms = 0;  // Each stands alone.
  }
  if (format_of(body) == 1) {
    StoredForms::encode_format1(body, raw_);
    if (!info_.snapshot) previous_body_.assign(body.data(), body.size());
  } else {
    if (!previous_body_.empty()) {  // The first format 2 after format 1 operations: its step is from theirs.
      const Operation previous = log::decode(previous_body_, "the bundle's previous operation");
      at_.prev_lamport = previous.lamport;
      at_.prev_time_ms = static_cast<std::uint64_t>(previous.id.unix_ms());
      previous_body_.clear();
    }
    std::uint64_t lamport = 0, time_ms = 0;
    try {  // From this database's log, its chain checked as it is read.
      stored_->encode_held(body, at_, raw_, lamport, time_ms);
    } catch (const Error& e) {  // The message names the operation only when there is one to give.
      throw Error(e.code(), "operation " + std::to_string(seq) + " of device " + origin.to_string() + e.what());
    }
    if (!info_.snapshot) {
      at_.prev_lamport = lamport;
      at_.prev_time_ms = time_ms;
    }
  }
  ++segment_count_;
}

void Writer::add_row4(const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq) {
  const std::uint64_t c = chains_.number(chain), d = chains_.number(dep);
  if (!info_.snapshot || info_.format_major < 4 || c == 0 || d == 0)
    throw Error(Errc::internal, "a causal row of a chain the snapshot does not number");
  if (!add_row_) add_row_.emplace(db_->prepare("INSERT INTO ferry_deps VALUES(?, ?, ?, ?)"));
  add_row_->bind(1, static_cast<std::int64_t>(c)).bind(2, static_cast<std::int64_t>(d))
      .bind(3, static_cast<std::int64_t>(seq)).bind(4, static_cast<std::int64_t>(dep_seq));
  add_row_->run();
}

Hash Writer::causal_rows_hash() {
  hash::Sha256 rows;
  auto st = db_->prepare("SELECT chain, dep, seq, dep_seq FROM ferry_deps ORDER BY chain, dep, seq");
  while (st.step())
    rows.update(encode_causal_row(static_cast<std::uint64_t>(st.integer(0)), static_cast<std::uint64_t>(st.integer(1)),
                                  static_cast<std::uint64_t>(st.integer(2)), static_cast<std::uint64_t>(st.integer(3))));
  return rows.finish();
}

void Writer::flush_segment() {
  if (raw_.empty()) return;
  const std::string frame = compressor_->compress(raw_);
  const Hash frame_hash = hash::Sha256().update(frame).finish();
  frames_.update(frame_hash.data(), frame_hash.size());
  auto segment = db_->prepare("INSERT INTO ferry_segments VALUES(?, ?, ?, ?, ?)");
  segment.bind(1, static_cast<std::int64_t>(segment_chain_))
      .bind(2, static_cast<std::int64_t>(segment_first_))
      .bind(3, static_cast<std::int64_t>(segment_count_))
      .bind(4, static_cast<std::int64_t>(raw_.size()))
      .bind_blob(5, frame.data(), frame.size());
  segment.run();
  raw_.clear();
}

}  // namespace ferry::bundle
