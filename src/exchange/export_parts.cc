#include "exchange/export_parts.h"

#include <algorithm>
#include <deque>
#include <tuple>

#include "log/peer_clocks.h"
#include "util/uuid.h"

namespace ferry::exchange {
namespace {

// Operations `first`..`last` of the whole plan's range number `range`.
struct Piece {
  std::size_t range;
  std::uint64_t first, last;
  std::uint64_t size() const { return last - first + 1; }
};
using Run = std::vector<Piece>;  // One part's pieces, in the plan's range order.

// Where a piece of a range may end: anywhere in this device's own chains (it
// signs their heads as it writes), at a head its origin signed in another's.
class Ends {
 public:
  Ends(session::Session& s, const ExportPlan& plan) : s_(s), plan_(plan), below_(s.db.prepare(
      "SELECT max(seq) FROM ferry_heads WHERE device=? AND seq<=?")), above_(s.db.prepare(
      "SELECT min(seq) FROM ferry_heads WHERE device=? AND seq>=?")) {}

  // The greatest end <= `seq` in `p` (p.first - 1 when there is none).
  std::uint64_t at_or_below(const Piece& p, std::uint64_t seq) { return ask(below_, p, seq, p.first - 1); }
  // The least end >= `seq` in `p` (the piece's last at most: a range's end is always signed).
  std::uint64_t at_or_above(const Piece& p, std::uint64_t seq) { return ask(above_, p, seq, p.last); }

 private:
  std::uint64_t ask(sql::Statement& st, const Piece& p, std::uint64_t seq, std::uint64_t none) {
    const replica::Device& d = *s_.devices.find(plan_.info.ranges[p.range].device);
    if (d.id == s_.self || (d.scoped() && s_.devices.name_of(d).first->id == s_.self)) return seq;
    st.bind(1, d.no).bind(2, static_cast<std::int64_t>(seq));
    std::uint64_t end = none;
    if (st.step() && !st.is_null(0)) end = static_cast<std::uint64_t>(st.integer(0));
    st.reset();
    return end >= p.first && end <= p.last ? end : none;
  }
  session::Session& s_;
  const ExportPlan& plan_;
  sql::Statement below_, above_;
};

// Cuts `pieces` into runs of about `per_run` operations, each piece ending where its range may.
std::vector<Run> cut(const Run& pieces, std::uint64_t per_run, Ends& ends) {
  std::vector<Run> runs;
  Run current;
  std::uint64_t count = 0;
  auto close = [&] {
    if (!current.empty()) runs.push_back(std::move(current));
    current.clear();
    count = 0;
  };
  for (Piece p : pieces) {
    while (p.first <= p.last) {
      const std::uint64_t room = per_run - count;
      if (p.size() <= room) {
        current.push_back(p);
        count += p.size();
        break;
      }
      std::uint64_t end = ends.at_or_below(p, p.first - 1 + room);
      if (end < p.first) {
        if (!current.empty()) {  // Nothing of this piece fits beside what the run holds: a run of its own.
          close();
          continue;
        }
        end = ends.at_or_above(p, p.first - 1 + room);  // The least this piece can give: over the size, then.
      }
      current.push_back(Piece{p.range, p.first, end});
      p.first = end + 1;
      close();
    }
  }
  close();
  return runs;
}

// The plan of one part: `run`'s pieces of `whole`, and its receipts if `first`.
ExportPlan part_plan(session::Session& s, trust::Store& store, const trust::KeyPair& keys, const ExportPlan& whole,
                     const Run& run, bool first) {
  const BundleInfo& w = whole.info;
  std::vector<std::tuple<SeqRange, Hash, Hash>> ranges;  // Range, prerequisite, last hash.
  for (const Piece& p : run) {
    const SeqRange& r = w.ranges[p.range];
    const replica::Device& d = *s.devices.find(r.device);
    ranges.emplace_back(SeqRange{r.device, p.first, p.last},
                        p.first == r.first ? w.prerequisites[p.range] : held_hash(s, d, p.first - 1),
                        p.last == r.last ? w.last_hashes[p.range] : held_hash(s, d, p.last));
  }
  if (first)
    for (std::size_t i = 0; i < w.ranges.size(); ++i)
      if (std::find(whole.receipts.begin(), whole.receipts.end(), w.ranges[i].device) != whole.receipts.end())
        ranges.emplace_back(w.ranges[i], w.prerequisites[i], w.last_hashes[i]);
  std::sort(ranges.begin(), ranges.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a).device < std::get<0>(b).device; });
  ExportPlan part = whole;
  part.receipts = first ? whole.receipts : std::vector<DeviceId>{};
  BundleInfo& info = part.info;
  info.bundle_id = util::make_uuid_v7(util::now_ms());
  info.ranges.clear();
  info.prerequisites.clear();
  info.last_hashes.clear();
  info.origin_keys.clear();
  info.head_signatures.clear();
  info.operations = 0;
  for (const auto& [r, prerequisite, last] : ranges) {
    info.ranges.push_back(r);
    info.prerequisites.push_back(prerequisite);
    info.last_hashes.push_back(last);
    info.operations += r.last - r.first + 1;
  }
  sign_ranges(s, store, keys, info);
  name_chains(s, part);
  return part;
}

std::string limit_text(std::uint64_t bytes) { return std::to_string(bytes) + " bytes"; }

// The refusal for a run that cannot be cut and is over the limit alone.
Error too_large(const ExportPlan& whole, const Run& run, std::uint64_t bytes, std::uint64_t limit,
                const std::string& path) {
  const Piece& p = run.front();
  const SeqRange& r = whole.info.ranges[p.range];
  const std::string what = p.size() == 1 ? "operation " + std::to_string(p.first) + " of chain " + r.device.to_string() +
                                               " makes a bundle of " + limit_text(bytes) + " by itself"
                                         : "operations " + std::to_string(p.first) + "-" + std::to_string(p.last) +
                                               " of chain " + r.device.to_string() +
                                               ", which its device signed as one run and which cannot be cut, make a "
                                               "bundle of " + limit_text(bytes);
  return Error(Errc::refused, path + ": " + what + ", more than the limit of " + limit_text(limit) +
                                  ": nothing was written. Raise the limit (--max-size) to at least " +
                                  limit_text(bytes) + ", or carry this bundle another way.");
}

// An encrypted file's size for a plain one of `plain` bytes, at most (trust/envelope.h:
// a 96-byte header, a 16-byte tag per chunk of 64 KiB).
std::uint64_t sealed_bound(std::uint64_t plain) { return plain + 96 + 16 * (plain / 65536 + 2); }

}  // namespace

std::vector<std::unique_ptr<BundleExport>> write_parts(session::Session& s, trust::Store& store,
                                                       const trust::KeyPair& keys, const ExportPlan& plan,
                                                       const std::string& path, const ExportOptions& options,
                                                       bool split) {
  const std::uint64_t limit = options.max_size;
  auto size_of = [&](const BundleExport& b) { return plan.encrypt_for ? sealed_bound(b.bytes()) : b.bytes(); };
  std::vector<std::unique_ptr<BundleExport>> parts;
  parts.push_back(std::make_unique<BundleExport>(s, plan, keys, path, options.progress));  // 1
  const std::uint64_t whole = size_of(*parts.front());
  if (limit == 0 || whole <= limit) return parts;
  parts.clear();
  if (!split || plan.info.snapshot)
    throw Error(Errc::refused, path + ": the " + std::string(plan.info.snapshot ? "snapshot" : "bundle") + " would be " +
                                   limit_text(whole) + ", more than the limit of " + limit_text(limit) +
                                   (plan.info.snapshot ? ", and a snapshot cannot be cut into parts: start the new "
                                                         "device from `export --all --max-size` instead, whose parts "
                                                         "it imports in any order"
                                                       : "") +
                                   "; nothing was written");
  Run all;  // 2
  for (std::size_t i = 0; i < plan.info.ranges.size(); ++i) {
    const SeqRange& r = plan.info.ranges[i];
    if (std::find(plan.receipts.begin(), plan.receipts.end(), r.device) == plan.receipts.end())
      all.push_back(Piece{i, r.first, r.last});
  }
  std::uint64_t operations = 0;
  for (const Piece& p : all) operations += p.size();
  // A tenth under the limit, for the parts' own pages and operations of uneven sizes.
  const std::uint64_t wanted = (whole + limit * 9 / 10 - 1) / (limit * 9 / 10);
  Ends ends(s, plan);
  std::vector<Run> planned = cut(all, std::max<std::uint64_t>(1, (operations + wanted - 1) / wanted), ends);
  std::deque<Run> todo(planned.begin(), planned.end());
  bool first = true;
  while (!todo.empty()) {  // 3
    Run run = std::move(todo.front());
    todo.pop_front();
    auto part = std::make_unique<BundleExport>(s, part_plan(s, store, keys, plan, run, first), keys, path,
                                               options.progress);
    if (const std::uint64_t bytes = size_of(*part); bytes > limit) {
      std::uint64_t n = 0;
      for (const Piece& p : run) n += p.size();
      std::vector<Run> halves = n > 1 ? cut(run, (n + 1) / 2, ends) : std::vector<Run>{run};
      if (halves.size() < 2) throw too_large(plan, run, bytes, limit, path);
      todo.insert(todo.begin(), halves.begin(), halves.end());
      continue;
    }
    first = false;
    parts.push_back(std::move(part));
  }
  return parts;
}

bool nothing_new(session::Session& s, const ExportPlan& plan, const std::optional<OperationId>& on_its_way) {
  if (plan.peer == nullptr) return false;
  const auto last = log::stored_reference(s.db, "exported_clock", plan.peer->no);
  if (!last) return false;  // Never exported to: it does not know this device's clock, even an empty one.
  if (log::stored_clock(s.db, s.devices, "exported_clock", plan.peer->no) != plan.whole_clock) return false;
  if (plan.info.operations == plan.receipts.size()) return true;
  return on_its_way == last;
}

}  // namespace ferry::exchange
