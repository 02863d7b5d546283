#pragma once
// Writer: builds a bundle in a temporary file beside the target, then makes it
// appear at the target path whole (fsync, rename, fsync of the folder). If
// anything fails, or the Writer is destroyed before publish(), the temporary
// file is removed and the target path is untouched.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/reports.h"
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
  Writer(const std::string& target, BundleInfo info, const trust::KeyPair& signer);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // REQUIRES: in (origin, seq) order, exactly the operations the ranges announce;
  // `body` is canonical; `hash` is its hash (it enters the content hash; the file does
  // not store it). A delta bundle stores the body without its link (bodies_carry_links).
  void add(const DeviceId& origin, std::uint64_t seq, const Hash& hash, std::string_view body);
  // Completes the file at written(). Returns the final metadata.
  BundleInfo finish();
  // The complete file, after finish() and until publish().
  const std::string& written() const { return temp_; }
  // Makes the complete file durable and moves it to the target path.
  void publish();

 private:
  void start();    // Creates the schema and writes the header tables.
  void discard();  // Closes and removes the temporary file.

  std::string target_;
  std::string temp_;
  BundleInfo info_;
  const trust::KeyPair& signer_;
  std::unique_ptr<sql::Database> db_;
  std::optional<sql::BlobRows> ops_;  // ferry_ops(origin, seq, body), many rows to a statement.
  std::optional<DeviceId> origin_;     // Of the rows ops_ is gathering.
  hash::Sha256 content_;
  std::size_t added_ = 0;
  bool published_ = false;
};

}  // namespace ferry::bundle
