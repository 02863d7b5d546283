#pragma once
// Reader: opens a bundle from a stranger without trusting it
// (bundle_format/README.md, "Reading a bundle safely"):
//   0. the path is opened once (no symlink, regular file, size cap) and copied
//      into a private folder; the original is never read again;
//   1. the SQLite header is checked by hand (magic, page size, no WAL, size,
//      UTF-8, application id, format version) before SQLite parses anything;
//   2. the copy is opened read-only and immutable on a hardened connection;
//   3. PRAGMA integrity_check must answer exactly "ok";
//   4. sqlite_schema must match bundle_format/schema.sql (2.0, 3.0) or
//      schema4.sql (4.0; with schema4.1.sql from 4.1 on) byte for byte;
//   5. the manifest, chains, ranges and tables are read with fixed statements
//      and every column's type and size is checked;
//   6. scan() reads every operation in (origin, seq) order and recomputes its
//      hash, its chain link, its range and finally the content hash; in 4.0
//      each segment is first checked and decompressed within its limits
//      (bundle/segment.h) and each stored form rebuilt (bundle/stored.h).
// Between 5 and 6 the signatures are checked (authenticate()): the exporter's
// over the content hash, each origin's over its range's last hash.
// Every failure is Error(corrupt) -- Error(untrusted) for an intact bundle
// vouching for a head its origin never signed, Error(refused) for a newer
// format -- with a message naming the file and the first problem. Damage is
// named as damage: before any refusal for a signature or a key, the content
// hash is checked (check_content()), so that a flipped bit is never taken for
// a verdict about a device. An encrypted bundle is decrypted first, by `unseal`, from the
// private copy into the private folder.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bundle/format.h"
#include "ferry/operation.h"
#include "ferry/reports.h"
#include "sql/database.h"
#include "util/files.h"

namespace ferry::bundle {

class Reader {
 public:
  // Decrypts the private copy `sealed` of an encrypted bundle into `plain`.
  using Unsealer = std::function<void(const std::string& sealed, const std::string& plain)>;
  explicit Reader(const std::string& path, const Unsealer& unseal = {});
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const BundleInfo& info() const { return info_; }
  const std::string& path() const { return path_; }

  // `op` is the visitor's to keep (it may move from it); `body` is valid during the call.
  using Visitor = std::function<void(Operation& op, std::string_view body, const Hash& hash)>;
  // Verifies every operation and the content hash, calling `visit` (if set)
  // for each verified operation in (origin, seq) order. Throws at the first
  // failure; the content hash is checked after the last operation, so a
  // caller applying as it goes must do so inside a transaction.
  void scan(const Visitor& visit = {});

  // The checks of scan() that need no decoding -- every body's hash against
  // its successor's link, the ranges' last hashes and the content hash -- for
  // a bundle this process has just written (export's read-back): it finds
  // what went wrong between the writer and the disk at a fraction of the cost.
  // A bundle from anywhere else needs scan().
  void check_content();

  // A 4.0 snapshot's causal rows (ferry_deps, bundle_format/README.md §13),
  // checked as scan() checks them, in (chain, dep, seq) order: from operation
  // `seq` of `chain` on, its origin had seen `dep` up to `dep_seq`.
  using CausalRowVisitor =
      std::function<void(const DeviceId& chain, const DeviceId& dep, std::uint64_t seq, std::uint64_t dep_seq)>;
  void causal_rows(const CausalRowVisitor& visit);

 private:
  void walk(const Visitor& visit, bool decode);
  void check_operation(const Operation& op, const DeviceId& origin, std::uint64_t seq, const Hash& prev,
                       const std::function<std::string()>& what) const;
  void copy_privately(const std::string& path);
  void check_header();
  void open_hardened();
  void check_schema();
  void read_manifest();
  void read_manifest4();  // reader4.cc, as walk4.
  void walk4(const Visitor& visit, bool decode);
  // Checks every causal row (none in a delta), visiting each; returns the hash
  // of their encodings, which a snapshot's content hash covers.
  Hash check_causal_rows(const CausalRowVisitor& visit);
  // Fields of the manifest's rows, checked for type and size (Error(corrupt) naming `field`).
  Bytes blob_of(sql::Statement& st, int col, std::size_t size, const char* field) const;
  std::int64_t int_of(sql::Statement& st, int col, const char* field) const;
  void read_common(sql::Statement& m, int col);  // bundle_id .. kind.
  void read_totals(sql::Statement& m, int col);  // operations .. signature.
  void read_range(sql::Statement& r, const DeviceId& device, std::uint64_t& announced);
  void read_table(sql::Statement& t, int col);   // name, columns, key.
  void authenticate();
  void unseal_copy(const Unsealer& unseal);

  std::string path_;        // As the user gave it: used in messages only.
  std::optional<util::PrivateFolder> folder_;  // Holds the copy.
  std::string copy_;
  std::uint64_t size_ = 0;
  std::unique_ptr<sql::Database> db_;
  BundleInfo info_;
  Chains chains_;             // 4.0: ferry_chains...
  std::vector<bool> named_;   // ...and, by number, whether the clock or a range names each.
};

}  // namespace ferry::bundle
