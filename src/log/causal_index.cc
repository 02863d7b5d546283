#include "log/causal_index.h"

#include <algorithm>

namespace ferry::log {

CausalIndex::CausalIndex(sql::Database& db)
    : lookup_(db.prepare("SELECT dep_seq FROM ferry_deps WHERE chain=? AND dep=? AND seq<=? ORDER BY seq DESC LIMIT 1")),
      insert_(db.prepare("INSERT INTO ferry_deps(chain, dep, seq, dep_seq) VALUES(?, ?, ?, ?)")),
      remove_(db.prepare("DELETE FROM ferry_deps WHERE chain=? AND seq BETWEEN ? AND ?")) {}

void CausalIndex::record(std::int64_t chain, const Operation& op,
                         const std::function<std::int64_t(const DeviceId&)>& number_of) {
  const auto seq = static_cast<std::int64_t>(op.seq);
  auto add = [&](std::int64_t dep, std::uint64_t dep_seq) {
    insert_.bind(1, chain).bind(2, dep).bind(3, seq).bind(4, static_cast<std::int64_t>(dep_seq));
    insert_.run();
  };
  if (op.format != 1) {  // Its deps are what grew.
    for (const auto& [device, dep_seq] : op.clock.entries()) add(number_of(device), dep_seq);
    last_chain_ = 0;
    return;
  }
  const bool follows_last = last_chain_ == chain && last_seq_ + 1 == op.seq;
  bool grew = false;
  for (const auto& [device, dep_seq] : op.clock.entries()) {
    if (device == op.origin) continue;
    const std::int64_t dep = follows_last ? 0 : number_of(device);
    const std::uint64_t before = follows_last ? last_clock_.get(device) : entry(chain, op.seq, dep);
    if (dep_seq > before) {
      add(dep != 0 ? dep : number_of(device), dep_seq);
      grew = true;
    }
  }
  // Along a chain most operations learn nothing new: then the clock kept stands for this one too.
  if (!follows_last || grew) last_clock_ = op.clock;
  last_chain_ = chain;
  last_seq_ = op.seq;
}

std::uint64_t CausalIndex::entry(std::int64_t chain, std::uint64_t seq, std::int64_t dep) {
  if (dep == chain) return seq;
  lookup_.bind(1, chain).bind(2, dep).bind(3, static_cast<std::int64_t>(seq));
  const std::uint64_t found = lookup_.step() ? static_cast<std::uint64_t>(lookup_.integer(0)) : 0;
  lookup_.reset();
  return found;
}

std::string CausalIndex::disagreement(std::int64_t chain, const Operation& op,
                                      const std::function<std::int64_t(const DeviceId&)>& number_of) {
  for (const auto& [device, carried] : op.clock.entries()) {
    if (device == op.origin) continue;
    const std::int64_t dep = number_of(device);
    std::uint64_t expected = carried;
    if (op.format != 1) expected = std::max(carried, entry(chain, op.seq - 1, dep));
    const std::uint64_t indexed = entry(chain, op.seq, dep);
    if (indexed != expected)
      return "the causal index says it had seen operation " + std::to_string(indexed) + " of device " +
             device.to_string() + ", its content says " + std::to_string(expected);
  }
  return {};
}

void CausalIndex::remove(std::int64_t chain, std::uint64_t first, std::uint64_t last) {
  remove_.bind(1, chain).bind(2, static_cast<std::int64_t>(first)).bind(3, static_cast<std::int64_t>(last));
  remove_.run();
  last_chain_ = 0;
}

}  // namespace ferry::log
