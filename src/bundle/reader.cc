#include "bundle/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "bundle/format.h"
#include "ferry/error.h"
#include "hash/sha256.h"
#include "log/codec.h"

namespace ferry::bundle {
namespace {

constexpr std::size_t kHeaderSize = 100;
using log::kMaxNameBytes;

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Reader::Reader(const std::string& path, const Unsealer& unseal) : path_(path) {
  copy_privately(path);
  unseal_copy(unseal);
  check_header();
  open_hardened();
  check_schema();
  read_manifest();
  authenticate();
}

Reader::~Reader() { db_.reset(); }  // Closed before the private folder goes.

void Reader::copy_privately(const std::string& path) {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path + ": " + what); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw Error(Errc::not_found, path + ": no such file");
    if (err == ELOOP) fail("is a symbolic link; give the path of the bundle file itself");
    throw Error(Errc::not_found, path + ": cannot open: " + std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(Errc::invalid_argument, path + ": is " + util::kind_of_file(st.st_mode) + ", not a regular file ferry can read");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxBundleBytes)
    fail("is " + std::to_string(st.st_size) + " bytes, more than the " + std::to_string(kMaxBundleBytes >> 20) +
         " MiB a bundle may hold");
  folder_.emplace("for reading " + path);
  copy_ = folder_->file("bundle");
  const int out = ::open(copy_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) throw Error(Errc::database, copy_ + ": cannot create: " + std::strerror(errno));
  Closer out_closer{out};
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(std::string("read failed: ") + std::strerror(errno));
    if (n == 0) break;
    if (size_ == 0) {
      // Before copying anything: a file that does not start as a bundle is refused
      // here, not after a copy of all of it (a 2 GiB sparse file costs nothing).
      const std::string_view head(buf.data(), static_cast<std::size_t>(n));
      if (head.substr(0, 8) != "FERRYENC" && head.substr(0, 16) != std::string_view("SQLite format 3\0", 16))
        fail("is not a ferry bundle (not a SQLite file, nor an encrypted bundle)");
    }
    size_ += static_cast<std::uint64_t>(n);
    if (size_ > kMaxBundleBytes) fail("grew past the size limit while being read");
    if (::write(out, buf.data(), static_cast<std::size_t>(n)) != n)
      throw Error(Errc::database, copy_ + ": cannot write the private copy: " + std::strerror(errno));
  }
}

void Reader::check_header() {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  if (size_ < kHeaderSize)
    fail("is not a ferry bundle (" + std::to_string(size_) + " bytes; a bundle is a SQLite file of at least " +
         "512 bytes)");
  std::uint8_t h[kHeaderSize];
  {
    const int fd = ::open(copy_.c_str(), O_RDONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::read(fd, h, kHeaderSize) == static_cast<ssize_t>(kHeaderSize);
    if (fd >= 0) ::close(fd);
    if (!ok) fail("cannot read its header");
  }
  if (std::memcmp(h, "SQLite format 3", 16) != 0) fail("is not a ferry bundle (not a SQLite file)");
  if (be32(h + 68) != static_cast<std::uint32_t>(kApplicationId))
    fail("is a SQLite file but not a ferry bundle (wrong application id)");
  const std::uint32_t version = be32(h + 60);
  if (version > kFormatMajor)
    throw Error(Errc::refused, path_ + ": uses bundle format " + std::to_string(version) + ", newer than this ferry reads (" +
                                   std::to_string(kOldestFormatMajor) + " to " + std::to_string(kFormatMajor) +
                                   "); upgrade ferry to import it");
  if (version < kOldestFormatMajor)
    throw Error(Errc::refused, path_ + ": uses bundle format " + std::to_string(version) + ", older than this ferry reads (" +
                                   std::to_string(kOldestFormatMajor) + " to " + std::to_string(kFormatMajor) +
                                   ", with device signatures); ask for a new export from a device running this version");
  info_.format_major = version;
  std::uint32_t page = (std::uint32_t{h[16]} << 8) | h[17];
  if (page == 1) page = 65536;
  if (page < 512 || (page & (page - 1)) != 0) fail("has an invalid page size in its header");
  if (h[18] != 1 || h[19] != 1) fail("is in WAL mode or has unknown read/write versions; a bundle never is");
  if (h[20] != 0 || h[21] != 64 || h[22] != 32 || h[23] != 32) fail("has invalid reserved-space or payload fields");
  if (be32(h + 24) != be32(h + 92)) fail("has a stale header (change counter differs from version-valid-for)");
  if (be32(h + 56) != 1) fail("is not UTF-8 encoded");
  if (std::uint64_t{be32(h + 28)} * page != size_)
    fail("is truncated or padded: its header says " + std::to_string(std::uint64_t{be32(h + 28)} * page) +
         " bytes but the file has " + std::to_string(size_));
}

void Reader::open_hardened() {
  db_ = std::make_unique<sql::Database>(copy_, sql::Database::Mode::untrusted_read);
  sql::harden_for_untrusted(*db_, static_cast<int>(log::kMaxBodyBytes));
  try {
    db_->exec("PRAGMA cell_size_check=ON; PRAGMA mmap_size=0");
    auto check = db_->prepare("PRAGMA integrity_check");
    std::string first;
    int rows = 0;
    while (check.step()) {
      if (rows++ == 0) first = check.text(0);
    }
    if (rows != 1 || first != "ok") throw Error(Errc::corrupt, "integrity check failed: " + printable(first));
  } catch (const Error& e) {
    throw Error(Errc::corrupt, path_ + ": is damaged (SQLite " + e.what() + ")");
  }
}

void Reader::check_schema() {
  const char* query = "SELECT type, name, tbl_name, ifnull(sql, '') FROM sqlite_schema ORDER BY type, name";
  sql::Database reference(":memory:", sql::Database::Mode::create);
  const bool four = info_.format_major >= 4;
  // From 4.0 on, a minor version adds tables: 4.1 adds ferry_reference.
  std::int64_t minor = 0;
  if (four) {
    try {
      auto m = db_->prepare("SELECT format_minor FROM ferry_bundle");
      if (m.step() && m.column_type(0) == SQLITE_INTEGER) minor = m.integer(0);
    } catch (const Error&) {
      // No such table or column: damage, which the comparison below names.
    }
  }
  reference.exec(four ? kSchema4Sql : kSchemaSql);
  if (four && minor >= 1) reference.exec(kSchema41Sql);
  if (four && minor >= kScopesMinor) reference.exec(kSchema42Sql);
  auto expected = reference.prepare(query);
  auto actual = db_->prepare(query);
  // A bundle that says it is newer is refused as newer, not as damaged.
  auto refuse_if_newer = [&] {
    if (four && minor > static_cast<std::int64_t>(kFormatMinor))
      throw Error(Errc::refused, path_ + ": uses bundle format 4." + std::to_string(minor) + ", with tables this ferry "
                                     "does not know (it reads up to 4." + std::to_string(kFormatMinor) + "): upgrade ferry to import it");
  };
  // Every object by (type, name): what is missing is named as missing, what is extra or different as such.
  std::map<std::pair<std::string, std::string>, std::string> want, have;
  while (expected.step()) want[{expected.text(0), expected.text(1)}] = expected.text(2) + "\n" + expected.text(3);
  while (actual.step()) have[{actual.text(0), actual.text(1)}] = actual.text(2) + "\n" + actual.text(3);
  if (want == have) return;
  // Minor versions only add tables: a bundle lacking one its minor has is damage, whatever it claims.
  if (std::all_of(want.begin(), want.end(), [&](const auto& w) { return have.count(w.first) > 0; })) refuse_if_newer();
  for (const auto& [object, sql] : have) {
    const auto w = want.find(object);
    if (w == want.end() || w->second != sql)
      throw Error(Errc::corrupt, path_ + ": holds a schema object a bundle may not have: " + printable(object.first) +
                                     " '" + printable(object.second) + "' (a bundle holds exactly the tables of bundle_format/" +
                                     (!four ? "schema.sql" : minor >= static_cast<std::int64_t>(kScopesMinor) ? "schema4.sql, schema4.1.sql and schema4.2.sql"
                                        : minor >= 1 ? "schema4.sql and schema4.1.sql" : "schema4.sql") + ")");
  }
  for (const auto& [object, sql] : want)
    if (!have.count(object)) throw Error(Errc::corrupt, path_ + ": lacks the " + object.first + " " + object.second);
}

void Reader::check_operation(const Operation& op, const DeviceId& origin, std::uint64_t seq, const Hash& prev,
                             const std::function<std::string()>& what) const {
  auto fail = [&](const std::string& problem) { throw Error(Errc::corrupt, path_ + ": " + problem); };
  if (op.origin != origin || op.seq != seq) fail(what() + ": its content names another operation");
  if (!info_.snapshot && op.prev_hash != prev) fail(what() + ": it does not continue its device's chain");
  const TableInfo* table = nullptr;
  for (const auto& t : info_.tables)
    if (t.name == op.table) table = &t;
  if (table == nullptr) fail(what() + ": writes table '" + printable(op.table) + "', which the bundle does not describe");
  if (op.key.size() != table->key.size()) fail(what() + ": its key does not fit table '" + printable(op.table) + "'");
  // A Lamport time is one more than the largest in the operation's causal past,
  // which holds at most as many operations as its clock counts: a larger one was
  // never reached, and once believed would push the receiver's own past 2^63.
  // A format 2 operation carries only what its clock gained, and is bounded
  // when it is applied (exchange/importer.h).
  std::uint64_t past = 0;
  for (const auto& [device, s] : op.clock.entries()) {
    past += s;  // Below lamport + 2^62 < 2^64 when the loop stops: no overflow.
    if (past >= op.lamport) break;
  }
  if (op.format == 1 && op.lamport > past)
    fail(what() + ": its Lamport time " + std::to_string(op.lamport) + " is more than the " + std::to_string(past) +
         " operations its clock says it follows");
  for (const auto& c : op.columns) {
    if (std::find(table->columns.begin(), table->columns.end(), c.name) == table->columns.end())
      fail(what() + ": writes column '" + printable(c.name) + "', which table '" + printable(op.table) + "' does not have");
  }
}

void Reader::scan(const Visitor& visit) { walk(visit, /*decode=*/true); }

void Reader::check_content() { walk({}, /*decode=*/false); }

void Reader::walk(const Visitor& visit, bool decode) {
  if (info_.format_major >= 4) return walk4(visit, decode);
  hash::Sha256 content;
  content.update(encode_header(info_));
  auto st = db_->prepare("SELECT origin, seq, body FROM ferry_ops ORDER BY origin, seq");
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t range = kNone, count = 0;
  std::uint64_t expect_seq = 0;
  Hash prev{};
  const bool links_stored = bodies_carry_links(info_);
  std::string relinked;
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  while (st.step()) {
    if (st.column_type(0) != SQLITE_BLOB || st.blob_view(0).size() != 16 || st.column_type(1) != SQLITE_INTEGER ||
        st.column_type(2) != SQLITE_BLOB)
      fail("operation row " + std::to_string(count + 1) + " has columns of the wrong type or size");
    DeviceId origin;
    std::memcpy(origin.bytes.data(), st.blob_view(0).data(), 16);
    const auto seq = static_cast<std::uint64_t>(st.integer(1));
    // Built only when something fails: an operation that verifies costs no message.
    auto what = [&] { return "operation " + std::to_string(seq) + " of device " + origin.to_string(); };
    if (info_.snapshot) {
      while (range == kNone || (range < info_.ranges.size() && info_.ranges[range].device < origin))
        range = range == kNone ? 0 : range + 1;
      if (range >= info_.ranges.size() || info_.ranges[range].device != origin || seq > info_.ranges[range].last)
        fail(what() + " lies beyond the chain head the snapshot announces");
      expect_seq = seq;
    } else if (range == kNone || info_.ranges[range].device != origin) {
      // Operations come sorted by origin, as the ranges do, and every range holds at least one.
      if (range != kNone && expect_seq != info_.ranges[range].last + 1)
        fail("the range of device " + info_.ranges[range].device.to_string() + " is incomplete");
      range = range == kNone ? 0 : range + 1;
      if (range >= info_.ranges.size() || info_.ranges[range].device != origin)
        fail("operation " + std::to_string(seq) + " of device " + origin.to_string() + " is outside every announced range");
      expect_seq = info_.ranges[range].first;
      prev = info_.prerequisites[range];
    }
    if (seq != expect_seq)
      fail("expected operation " + std::to_string(expect_seq) + " of device " + origin.to_string() + " but found " +
           std::to_string(seq) + " (an operation is missing)");
    std::string_view body = st.blob_view(2);  // Valid until the next step.
    if (!links_stored) {
      // The link is the chain's: the range's prerequisite, then each operation's hash.
      log::relink(body, prev, relinked);
      body = relinked;
    }
    // Bundles store no hash: it is computed here, and the chain, the range's last
    // hash and the content hash are what it must agree with.
    const Hash stored = log::hash_of(body);
    if (!decode) {
      // A restored link is the chain's by construction; a stored one must be checked.
      if (links_stored && !info_.snapshot && !log::links_to(body, prev))
        fail(what() + ": it does not continue its device's chain");
    } else {
      Operation op;
      try {
        op = log::decode(body, path_);
      } catch (const Error& e) {
        // decode names the field after "<path>: "; put the operation between them.
        throw Error(e.code(), path_ + ": " + what() + std::string(e.what()).substr(path_.size()));
      }
      check_operation(op, origin, seq, prev, what);
      if (visit) visit(op, body, stored);
    }
    if (seq == info_.ranges[range].last && stored != info_.last_hashes[range])
      fail("the operations of device " + origin.to_string() + " do not end at the chain head its range announces "
           "(one of them was changed after the bundle was written)");
    content.update(stored.data(), stored.size());
    prev = stored;
    ++expect_seq;
    ++count;
  }
  if (!info_.snapshot && !info_.ranges.empty() &&
      (range != info_.ranges.size() - 1 || expect_seq != info_.ranges[range].last + 1))
    fail("the operations end before the announced ranges do (operations are missing)");
  if (count != info_.operations)
    fail("holds " + std::to_string(count) + " operations but announces " + std::to_string(info_.operations));
  if (content.finish() != info_.content_hash)
    fail("its content hash does not match (the bundle was changed after it was written)");
}

}  // namespace ferry::bundle
