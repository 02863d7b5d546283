// The format 4.0 half of Reader (bundle_format/format4.md §5, §6): the
// manifest with its numbered chains and tables, and the walk over segments,
// each checked and decompressed within its limits before its stored forms
// are rebuilt into canonical operations and checked as 3.0's are.

#include <cstring>
#include <optional>

#include "bundle/reader.h"
#include "bundle/segment.h"
#include "bundle/stored.h"
#include "ferry/error.h"
#include "hash/sha256.h"
#include "log/chain.h"
#include "log/codec.h"
#include "log/fields.h"

namespace ferry::bundle {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// The limit of a segment's raw size (format4.md §6, step 1).
std::size_t raw_limit(std::int64_t count) {
  return count == 1 ? log::kMaxBodyBytes + 4096 : kMaxSegmentBytes;
}

}  // namespace

void Reader::read_manifest4() {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  auto m = db_->prepare("SELECT format_major, format_minor, bundle_id, exporter, exporter_name, created_ms, "
                        "kind, clock, operations, content_hash, signer_key, box_key, signature FROM ferry_bundle");
  if (!m.step()) fail("has no manifest row (ferry_bundle is empty)");
  if (int_of(m, 0, "format_major") != static_cast<std::int64_t>(info_.format_major))
    fail("manifest and header disagree on the format version");
  const auto minor = int_of(m, 1, "format_minor");
  if (minor < 0 || minor > 0xffff) fail("has an invalid format_minor");
  info_.format_minor = static_cast<std::uint32_t>(minor);  // Its tables are checked (check_schema()).
  read_common(m, 2);
  const Bytes clock = blob_of(m, 7, 0, "clock");
  read_totals(m, 8);
  if (m.step()) fail("has more than one manifest row");
  if (minor >= 1) {  // 4.1: who it is for, and what its clock is written against; 4.2: if anyone.
    auto a = db_->prepare("SELECT device, reference FROM ferry_addressee");
    if (a.step()) {
      std::memcpy(info_.addressee.emplace().bytes.data(), blob_of(a, 0, 16, "addressee.device").data(), 16);
      if (!a.is_null(1))
        std::memcpy(info_.reference.emplace().bytes.data(), blob_of(a, 1, 16, "addressee.reference").data(), 16);
      if (a.step()) fail("has more than one addressee row");
      if (info_.snapshot) fail("is a snapshot with an addressee: a snapshot is for whoever starts from it");
    } else if (minor < static_cast<std::int64_t>(kScopesMinor)) {
      fail("says it is format 4.1 but names no addressee (ferry_addressee is empty)");
    }
  }

  auto c = db_->prepare("SELECT number, device, scope FROM ferry_chains ORDER BY number");
  while (c.step()) {
    if (int_of(c, 0, "chains.number") != static_cast<std::int64_t>(chains_.devices.size() + 1))
      fail("its chains are not numbered 1, 2, 3... without a gap");
    if (chains_.devices.size() == kMaxChains)
      fail("numbers more than " + std::to_string(kMaxChains) + " chains, more than any fleet has");
    DeviceId device;
    std::memcpy(device.bytes.data(), blob_of(c, 1, 16, "chains.device").data(), 16);
    if (log::is_scoped_chain(device)) fail("chain " + std::to_string(chains_.devices.size() + 1) + " names a device "
                                           "id of UUID version 8, the form of a scope's chain, which no device has");
    if (c.column_type(2) != SQLITE_TEXT || c.text(2).size() > log::kMaxScopeBytes)
      fail("field 'chains.scope' is not a short text");
    const std::string scope = c.text(2);
    if (const std::string why = log::scope_problem(scope); !why.empty()) fail("chain " + std::to_string(chains_.devices.size() + 1) + ": " + why);
    if (!scope.empty() && minor < static_cast<std::int64_t>(kScopesMinor))
      fail("names scope '" + printable(scope) + "' in a bundle of format 4." + std::to_string(minor) +
           ", which has none");
    const DeviceId chain = scope.empty() ? device : chains_.names.add(device, scope);
    if (!chains_.devices.empty() && !(chains_.devices.back() < chain))
      fail("its chains are not in the order of their ids, or name a chain twice");
    if (!scope.empty()) info_.scoped_chains.push_back({chain, device, scope});
    chains_.devices.push_back(chain);
  }
  named_.assign(chains_.devices.size() + 1, false);

  // The clock, by chain number.
  const std::string where = path_ + ": manifest clock";
  const auto clock_handle = log::parse_exactly(
      std::string_view(reinterpret_cast<const char*>(clock.data()), clock.size()), where);
  const auto& entries = log::get_array(clock_handle->get(), where, "clock");
  std::uint64_t previous = 0;
  for (std::uint32_t i = 0; i < entries.size; ++i) {
    const auto& entry = log::get_array(entries.ptr[i], where, "clock entry");
    if (entry.size != 2) log::bad(where, "clock entry", "a [chain, seq] pair");
    const std::uint64_t chain = log::get_uint(entry.ptr[0], where, "clock chain");
    if (chain <= previous || chain > chains_.devices.size())
      log::bad(where, "clock chain", "a chain the bundle numbers, in ascending order");
    const std::uint64_t seq = log::get_uint(entry.ptr[1], where, "clock seq");
    if (seq > log::kMaxCounter || (seq == 0 && !info_.reference))
      log::bad(where, "clock seq", info_.reference ? "between 0 and 2^62" : "between 1 and 2^62");
    if (seq == 0) info_.clock_dropped.push_back(chains_.devices[chain - 1]);  // In device order.
    else info_.clock.set(chains_.devices[chain - 1], seq);
    named_[chain] = true;
    previous = chain;
  }

  std::uint64_t announced = 0;
  previous = 0;
  auto r = db_->prepare("SELECT chain, first_seq, last_seq, prev_hash, last_hash, origin_key, head_signature FROM ferry_ranges "
                        "ORDER BY chain");
  while (r.step()) {
    const auto chain = int_of(r, 0, "ranges.chain");
    if (chain < 1 || static_cast<std::uint64_t>(chain) > chains_.devices.size())
      fail("has a range of chain " + std::to_string(chain) + ", which it does not number");
    named_[static_cast<std::size_t>(chain)] = true;
    read_range(r, chains_.devices[static_cast<std::size_t>(chain) - 1], announced);
  }
  if (!info_.snapshot && announced != info_.operations)
    fail("its ranges do not add up to the announced number of operations");

  auto t = db_->prepare("SELECT number, name, columns, key FROM ferry_tables ORDER BY number");
  while (t.step()) {
    if (int_of(t, 0, "tables.number") != static_cast<std::int64_t>(info_.tables.size() + 1))
      fail("its tables are not numbered 1, 2, 3... without a gap");
    read_table(t, 1);
  }
  if (minor >= static_cast<std::int64_t>(kScopesMinor)) {  // 4.2: the scope expressions of scoped tables.
    auto ts = db_->prepare("SELECT number, scope FROM ferry_table_scopes ORDER BY number");
    while (ts.step()) {
      const auto number = int_of(ts, 0, "table_scopes.number");
      if (number < 1 || static_cast<std::uint64_t>(number) > info_.tables.size())
        fail("gives a scope to table " + std::to_string(number) + ", which it does not number");
      if (ts.column_type(1) != SQLITE_TEXT || ts.text(1).empty() || ts.text(1).size() > log::kMaxNameBytes)
        fail("gives table " + std::to_string(number) + " a scope expression that is empty, too long or not text");
      info_.tables[static_cast<std::size_t>(number) - 1].scope = ts.text(1);
    }
  }
  info_.bytes = size_;
}

void Reader::walk4(const Visitor& visit, bool decode) {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  hash::Sha256 content;
  content.update(encode_header(info_, chains_));
  std::vector<TableShape> shapes;
  for (const auto& t : info_.tables) shapes.push_back({t.name, t.columns});
  const StoredForms forms(chains_.devices, std::move(shapes), chains_.names);
  SegmentDecompressor decompressor;
  std::vector<std::size_t> range_of(chains_.devices.size() + 1, kNone);  // Ranges by chain number.
  for (std::size_t i = 0; i < info_.ranges.size(); ++i) range_of[chains_.number(info_.ranges[i].device)] = i;

  auto st = db_->prepare("SELECT chain, first_seq, count, raw_size, data FROM ferry_segments ORDER BY chain, first_seq");
  std::size_t range = kNone, count = 0, segments = 0;
  std::uint64_t expect_seq = 0;
  Hash prev{};
  Position at;
  hash::Sha256 frames;  // Over each frame's hash: the content hash covers every bit of every segment.
  std::string canonical;
  std::string unread;  // Content only: a format 1 operation's bytes, decoded only if a format 2 one follows it.
  while (st.step()) {
    ++segments;
    const std::string segment = "segment " + std::to_string(segments);
    for (int col = 0; col < 4; ++col)
      if (st.column_type(col) != SQLITE_INTEGER) fail(segment + " has columns of the wrong type");
    if (st.column_type(4) != SQLITE_BLOB) fail(segment + " has columns of the wrong type");
    const std::int64_t chain = st.integer(0), first = st.integer(1), n = st.integer(2), raw_size = st.integer(3);
    if (chain < 1 || static_cast<std::uint64_t>(chain) >= range_of.size() || range_of[static_cast<std::size_t>(chain)] == kNone)
      fail(segment + " holds operations of chain " + std::to_string(chain) + ", which has no range");
    const std::size_t this_range = range_of[static_cast<std::size_t>(chain)];
    const SeqRange& r = info_.ranges[this_range];
    if (this_range != range) {
      // Segments come in chain order, as the ranges do; every range of a delta holds at least one operation.
      if (range != kNone && !info_.snapshot && expect_seq != info_.ranges[range].last + 1)
        fail("the range of device " + info_.ranges[range].device.to_string() + " is incomplete");
      if (!info_.snapshot && this_range != (range == kNone ? 0 : range + 1))
        fail("the operations of device " + info_.ranges[range == kNone ? 0 : range + 1].device.to_string() + " are missing");
      range = this_range;
      at = Position{};
      at.origin = r.device;
      unread.clear();
      prev = info_.prerequisites[range];
      expect_seq = info_.snapshot ? 1 : r.first;
    }
    const std::string where = segment + " (operations " + std::to_string(first) + " on of device " + r.device.to_string() + ")";
    if (first < 1 || static_cast<std::uint64_t>(first) < expect_seq || (!info_.snapshot && static_cast<std::uint64_t>(first) != expect_seq))
      fail(where + ": expected operation " + std::to_string(expect_seq) + " next (an operation is missing or repeated)");
    if (n < 1 || static_cast<std::uint64_t>(n) - 1 > r.last - static_cast<std::uint64_t>(first))
      fail(where + ": its count of " + std::to_string(n) + " operations runs outside its range");
    if (raw_size < 1 || static_cast<std::uint64_t>(raw_size) > raw_limit(n))
      fail(where + ": claims " + std::to_string(raw_size) + " bytes once decompressed; a segment of " + std::to_string(n) +
           " operations holds at most " + std::to_string(raw_limit(n)));
    const Hash frame_hash = hash::Sha256().update(st.blob_view(4)).finish();
    frames.update(frame_hash.data(), frame_hash.size());
    const std::string raw = decompressor.decompress(st.blob_view(4), static_cast<std::size_t>(raw_size),
                                                    raw_limit(n), path_ + ": " + where);
    std::size_t offset = 0;
    for (std::int64_t k = 0; k < n; ++k) {
      std::uint64_t seq = expect_seq;
      auto what = [&] { return "operation " + std::to_string(seq) + " of device " + r.device.to_string(); };
      if (offset >= raw.size()) fail(where + ": holds fewer operations than its count");
      if (info_.snapshot) {  // Each frontier operation after its seq and link.
        const auto seq_field = log::parse_next(raw, offset, path_ + ": " + where);
        seq = log::get_uint(seq_field->get(), path_ + ": " + where, "seq");
        if (seq < expect_seq || seq > r.last || (k == 0 && seq != static_cast<std::uint64_t>(first)))
          fail(where + ": operation " + std::to_string(seq) + " is out of order or beyond its chain's head");
        const auto link = log::parse_next(raw, offset, path_ + ": " + where);
        if (link->get().type != msgpack::type::BIN || link->get().via.bin.size != 32)
          log::bad(path_ + ": " + where, "link", "32 bytes");
        std::memcpy(at.prev_hash.data(), link->get().via.bin.ptr, 32);
        at.prev_lamport = at.prev_time_ms = 0;
      } else {
        at.prev_hash = prev;
      }
      at.seq = seq;
      std::optional<Operation> decoded;
      if (!decode && StoredForms::rebuild_format1(raw, offset, at.prev_hash, canonical, path_ + ": " + what())) {
        unread = canonical;  // The hash is all a read-back needs of it.
      } else {
        if (!unread.empty() && !info_.snapshot) {  // The steps of a format 2 operation start from its predecessor's.
          const Operation previous = log::decode(unread, path_);
          at.prev_lamport = previous.lamport;
          at.prev_time_ms = static_cast<std::uint64_t>(previous.id.unix_ms());
        }
        unread.clear();
        Operation op;
        try {
          op = forms.decode(raw, offset, at, canonical, path_, /*rebuild_only=*/!decode);
        } catch (const Error& e) {
          // decode names the field after "<path>: "; put the operation between them.
          throw Error(e.code(), path_ + ": " + what() + std::string(e.what()).substr(path_.size()));
        }
        if (decode) check_operation(op, r.device, seq, prev, what);
        if (op.format == 2)  // Its deps name chains too.
          for (const auto& entry : op.clock.entries()) named_[chains_.number(entry.first)] = true;
        if (!info_.snapshot) {
          at.prev_lamport = op.lamport;
          at.prev_time_ms = static_cast<std::uint64_t>(op.id.unix_ms());
        }
        decoded = std::move(op);
      }
      const Hash hash = log::hash_of(canonical);
      if (visit && decoded) visit(*decoded, canonical, hash);
      if (seq == r.last && hash != info_.last_hashes[range])
        fail("the operations of device " + r.device.to_string() + " do not end at the chain head its range announces "
             "(one of them was changed after the bundle was written)");
      content.update(hash.data(), hash.size());
      prev = hash;
      expect_seq = seq + 1;
      ++count;
    }
    if (offset != raw.size()) fail(where + ": holds more bytes than its " + std::to_string(n) + " operations");
  }
  if (!info_.snapshot && !info_.ranges.empty() &&
      (range != info_.ranges.size() - 1 || expect_seq != info_.ranges[range].last + 1))
    fail("the operations end before the announced ranges do (operations are missing)");
  if (count != info_.operations)
    fail("holds " + std::to_string(count) + " operations but announces " + std::to_string(info_.operations));
  const Hash rows = check_causal_rows({});
  for (std::size_t chain = 1; chain < named_.size(); ++chain)
    if (!named_[chain]) fail("numbers chain " + std::to_string(chain) + " but names it nowhere");
  const Hash frame_hashes = frames.finish();
  content.update(frame_hashes.data(), frame_hashes.size());
  if (info_.snapshot) content.update(rows.data(), rows.size());
  if (content.finish() != info_.content_hash)
    fail("its content hash does not match (the bundle was changed after it was written)");
}

void Reader::causal_rows(const CausalRowVisitor& visit) { (void)check_causal_rows(visit); }

Hash Reader::check_causal_rows(const CausalRowVisitor& visit) {
  auto fail = [&](const std::string& what) { throw Error(Errc::corrupt, path_ + ": " + what); };
  std::vector<std::uint64_t> head(chains_.devices.size() + 1, 0);  // By chain number: its range's last.
  for (const SeqRange& r : info_.ranges) head[chains_.number(r.device)] = r.last;
  hash::Sha256 rows;
  std::int64_t last_chain = 0, last_dep = 0;
  std::uint64_t last_dep_seq = 0;
  auto st = db_->prepare("SELECT chain, dep, seq, dep_seq FROM ferry_deps ORDER BY chain, dep, seq");
  while (st.step()) {
    if (!info_.snapshot) fail("holds causal rows (ferry_deps), which only a snapshot carries");
    const std::int64_t chain = int_of(st, 0, "deps.chain"), dep = int_of(st, 1, "deps.dep");
    const std::int64_t seq = int_of(st, 2, "deps.seq"), dep_seq = int_of(st, 3, "deps.dep_seq");
    const std::string what = "the causal row for operation " + std::to_string(seq) + " of chain " + std::to_string(chain);
    const auto n = static_cast<std::int64_t>(chains_.devices.size());
    if (chain < 1 || chain > n || head[static_cast<std::size_t>(chain)] == 0)
      fail(what + " names a chain the snapshot has no range of");
    if (dep < 1 || dep > n || dep == chain) fail(what + " names a chain it does not number, or its own");
    if (seq < 1 || static_cast<std::uint64_t>(seq) > head[static_cast<std::size_t>(chain)])
      fail(what + " is beyond the chain's head");
    if (dep_seq < 1 || static_cast<std::uint64_t>(dep_seq) > log::kMaxCounter)
      fail(what + " says it had seen operation " + std::to_string(dep_seq) + ", not between 1 and 2^62");
    // Rows say where a clock entry grew: along a chain, each says more than the one before.
    if (chain == last_chain && dep == last_dep && static_cast<std::uint64_t>(dep_seq) <= last_dep_seq)
      fail(what + " says less than the row before it: clocks only grow along a chain");
    last_chain = chain, last_dep = dep, last_dep_seq = static_cast<std::uint64_t>(dep_seq);
    named_[static_cast<std::size_t>(dep)] = true;
    const std::string row = encode_causal_row(static_cast<std::uint64_t>(chain), static_cast<std::uint64_t>(dep),
                                              static_cast<std::uint64_t>(seq), static_cast<std::uint64_t>(dep_seq));
    rows.update(row);
    if (visit)
      visit(chains_.devices[static_cast<std::size_t>(chain) - 1], chains_.devices[static_cast<std::size_t>(dep) - 1],
            static_cast<std::uint64_t>(seq), static_cast<std::uint64_t>(dep_seq));
  }
  return rows.finish();
}

}  // namespace ferry::bundle
