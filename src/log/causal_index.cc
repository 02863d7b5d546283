#include "log/causal_index.h"

#include <algorithm>
#include <map>

namespace ferry::log {

CausalIndex::CausalIndex(sql::Database& db)
    : lookup_(db.prepare("SELECT dep_seq FROM ferry_deps WHERE chain=? AND dep=? AND seq<=? ORDER BY seq DESC LIMIT 1")),
      insert_(db.prepare("INSERT INTO ferry_deps(chain, dep, seq, dep_seq) VALUES(?, ?, ?, ?)")),
      remove_(db.prepare("DELETE FROM ferry_deps WHERE chain=? AND seq BETWEEN ? AND ?")),
      rows_at_(db.prepare("SELECT dep, dep_seq FROM ferry_deps WHERE chain=? AND seq=?")) {}

namespace {

// Calls grew(device, seq) for each entry of `now` above the same entry of
// `before`, but `skip`'s: one walk over two sorted clocks.
template <class Grew>
void for_each_growth(const VectorClock& before, const VectorClock& now, const DeviceId& skip, Grew grew) {
  auto b = before.entries().begin();
  const auto b_end = before.entries().end();
  for (const auto& [device, seq] : now.entries()) {
    if (device == skip) continue;
    while (b != b_end && b->first < device) ++b;
    const std::uint64_t was = b != b_end && b->first == device ? b->second : 0;
    if (seq > was) grew(device, seq);
  }
}

}  // namespace

bool CausalIndex::growth(std::int64_t chain, const Operation& op, const NumberOf& number_of,
                         const std::function<void(std::int64_t dep, std::uint64_t dep_seq)>& grew) {
  if (op.format != 1) {  // Its deps are what grew.
    for (const auto& [device, dep_seq] : op.clock.entries()) grew(number_of(device), dep_seq);
    last_chain_ = 0;
    return true;
  }
  const bool follows_last = last_chain_ == chain && last_seq_ + 1 == op.seq;
  bool any = false;
  if (follows_last) {
    for_each_growth(last_clock_, op.clock, op.origin, [&](const DeviceId& device, std::uint64_t seq) {
      grew(number_of(device), seq);
      any = true;
    });
  }
  // Along a chain most operations learn nothing new: then the clock kept stands for this one too.
  if (!follows_last || any) last_clock_ = op.clock;
  last_chain_ = chain;
  last_seq_ = op.seq;
  return follows_last;
}

void CausalIndex::record(std::int64_t chain, const Operation& op, const NumberOf& number_of) {
  auto add = [&](std::int64_t dep, std::uint64_t dep_seq) { add_row(chain, dep, op.seq, dep_seq); };
  if (growth(chain, op, number_of, add)) return;
  // The first of its chain here: compared with what the index gives, a seek per entry.
  for (const auto& [device, dep_seq] : op.clock.entries()) {
    if (device == op.origin) continue;
    const std::int64_t dep = number_of(device);
    if (dep_seq > entry(chain, op.seq, dep)) add(dep, dep_seq);
  }
}

void CausalIndex::add_row(std::int64_t chain, std::int64_t dep, std::uint64_t seq, std::uint64_t dep_seq) {
  insert_.bind(1, chain).bind(2, dep).bind(3, static_cast<std::int64_t>(seq)).bind(4, static_cast<std::int64_t>(dep_seq));
  insert_.run();
}

std::uint64_t CausalIndex::entry(std::int64_t chain, std::uint64_t seq, std::int64_t dep) {
  if (dep == chain) return seq;
  lookup_.bind(1, chain).bind(2, dep).bind(3, static_cast<std::int64_t>(seq));
  const std::uint64_t found = lookup_.step() ? static_cast<std::uint64_t>(lookup_.integer(0)) : 0;
  lookup_.reset();
  return found;
}

std::string CausalIndex::disagreement(std::int64_t chain, const Operation& op, const NumberOf& number_of) {
  std::map<std::int64_t, std::uint64_t> expected;
  if (!growth(chain, op, number_of, [&](std::int64_t dep, std::uint64_t seq) { expected[dep] = seq; })) {
    // The first of its chain here: every entry it carries must be the index's answer, a seek each.
    for (const auto& [device, carried] : op.clock.entries()) {
      if (device == op.origin) continue;
      const std::int64_t dep = number_of(device);
      const std::uint64_t indexed = entry(chain, op.seq, dep);
      if (indexed != carried)
        return "the causal index says it had seen operation " + std::to_string(indexed) + " of device " +
               device.to_string() + ", its content says " + std::to_string(carried);
    }
    return {};
  }
  // Otherwise the rows at this operation must be exactly what grew: one read.
  rows_at_.bind(1, chain).bind(2, static_cast<std::int64_t>(op.seq));
  std::map<std::int64_t, std::uint64_t> stored;
  while (rows_at_.step()) stored[rows_at_.integer(0)] = static_cast<std::uint64_t>(rows_at_.integer(1));
  rows_at_.reset();
  if (stored == expected) return {};
  for (const auto* side : {&expected, &stored})
    for (const auto& [dep, seq] : *side) {
      const auto it = stored.find(dep);
      const std::uint64_t indexed = it == stored.end() ? entry(chain, op.seq, dep) : it->second;
      const std::uint64_t carried = expected.count(dep) ? expected.at(dep) : entry(chain, op.seq - 1, dep);
      if (indexed != carried)
        return "the causal index says it had seen operation " + std::to_string(indexed) + " of device number " +
               std::to_string(dep) + ", its content says " + std::to_string(carried);
    }
  return "the causal index holds rows for it that its content does not give";
}

void CausalIndex::remove(std::int64_t chain, std::uint64_t first, std::uint64_t last) {
  remove_.bind(1, chain).bind(2, static_cast<std::int64_t>(first)).bind(3, static_cast<std::int64_t>(last));
  remove_.run();
  last_chain_ = 0;
}

}  // namespace ferry::log
