#pragma once
// Writer: builds a bundle in a temporary file beside the target, then makes it
// appear at the target path whole (fsync, rename, fsync of the folder). If
// anything fails, or the Writer is destroyed before publish(), the temporary
// file is removed and the target path is untouched.
//
// It writes the format info.format_major names: 3 (ferry_ops, one row per
// operation) or 4 (bundle_format/format4.md: operations in their stored forms,
// gathered per chain into zstd segments of at most 1 MiB).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/reports.h"
#include "bundle/format.h"
#include "bundle/segment.h"
#include "bundle/stored.h"
#include "hash/sha256.h"
#include "sql/blob_rows.h"
#include "sql/database.h"
#include "trust/keys.h"

namespace ferry::bundle {

class Writer {
 public:
  // REQUIRES: info holds everything but content_hash, signature and bytes
  // (origin keys and head signatures included); ranges sorted by device;
  // `signer` is the exporter's key pair, whose public keys info names.
  // 4.0: `also_named` are the chains that only the deps of the operations to
  // be added name (Chains::of).
  Writer(const std::string& target, BundleInfo info, const trust::KeyPair& signer,
         std::vector<DeviceId> also_named = {});
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // REQUIRES: in (origin, seq) order, exactly the operations the ranges announce;
  // `body` is canonical; `hash` is its hash (it enters the content hash; the file does
  // not store it). A 3.0 delta bundle stores the body without its link
  // (bodies_carry_links), a 4.0 bundle its stored form.
  void add(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body);
  // A 4.0 snapshot's causal row (ferry_deps), in any order: from operation
  // `seq` of `chain` on, its origin had seen `dep` up to `dep_seq`. REQUIRES:
  // both chains numbered (a range, the clock or `also_named`).
  void add_causal_row(const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq);
  // Completes the file at written(). Returns the final metadata.
  BundleInfo finish();
  // The complete file, after finish() and until publish().
  const std::string& written() const { return temp_; }
  // Makes the complete file durable and moves it to the target path.
  void publish();
  // Another target, before publish(). REQUIRES: in the same folder as the first.
  void retarget(const std::string& target) { target_ = target; }

 private:
  void start();    // Creates the schema and writes the header tables.
  void discard();  // Closes and removes the temporary file.
  // Format 4.0 (writer4.cc).
  void start4();  // The numbering and ferry_chains.
  void add4(const DeviceId& origin, std::uint64_t seq, std::string_view body);
  void flush_segment();
  void add_row4(const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq);
  Hash causal_rows_hash();  // Over the rows in (chain, dep, seq) order.
  void write_manifest(const std::string& clock);  // ferry_bundle, with the clock as the format encodes it.
  BundleInfo closed();  // Closes the file; the final metadata.

  std::string target_;
  std::string temp_;
  BundleInfo info_;
  const trust::KeyPair& signer_;
  std::unique_ptr<sql::Database> db_;
  std::optional<sql::BlobRows> ops_;  // ferry_ops(origin, seq, body), many rows to a statement.
  std::optional<DeviceId> origin_;     // Of the rows ops_ is gathering.
  // Format 4.0: the numbering, and the segment being gathered.
  Chains chains_;
  std::vector<DeviceId> also_named_;
  std::optional<sql::Statement> add_row_;
  std::unique_ptr<StoredForms> stored_;
  std::unique_ptr<SegmentCompressor> compressor_;
  std::string raw_;                    // Stored forms of the segment so far.
  std::uint64_t segment_chain_ = 0, segment_first_ = 0, segment_count_ = 0;
  Position at_;                        // Where the next operation of the range sits.
  std::string previous_body_;          // Of a format 1 operation, when the next may be format 2.
  hash::Sha256 frames_;  // 4.0: over the hash of each segment's frame, in order.
  hash::Sha256 content_;
  std::size_t added_ = 0;
  bool published_ = false;
};

}  // namespace ferry::bundle
