// diff and the network view: what one holding has that another lacks, found
// from chain heads (bundle_format/README.md, "Fingerprints", "Comparing").
#include <algorithm>
#include <set>

#include "ferry/compare.h"
#include "ferry/error.h"

namespace ferry {
namespace {

// The part of first..last outside other_first..other_last: up to two ranges.
void subtract(const DeviceId& device, std::uint64_t first, std::uint64_t last, std::uint64_t other_first,
              std::uint64_t other_last, std::vector<SeqRange>& out) {
  if (first > last) return;
  if (other_first > other_last || other_last < first || other_first > last) {
    out.push_back(SeqRange{device, first, last});
    return;
  }
  if (first < other_first) out.push_back(SeqRange{device, first, other_first - 1});
  if (last > other_last) out.push_back(SeqRange{device, other_last + 1, last});
}

std::optional<Hash> hash_of(const Holding& h, const Holding::Chain& c, std::uint64_t seq) {
  if (seq == c.last) return c.last_hash;
  return h.hash_at ? h.hash_at(c.device, seq) : std::nullopt;
}

// Both hold operation `top` with different hashes. A chain that agrees at some
// operation agrees at every one before it, so the first difference is found by
// bisection, as far as both sides can show hashes.
std::uint64_t first_fork(const Holding& a, const Holding::Chain& ca, const Holding& b, const Holding::Chain& cb,
                         std::uint64_t low, std::uint64_t top) {
  std::uint64_t bad = top;
  while (low < bad) {
    const std::uint64_t mid = low + (bad - low) / 2;
    const auto ha = hash_of(a, ca, mid), hb = hash_of(b, cb, mid);
    if (!ha || !hb) break;
    if (*ha == *hb) low = mid + 1; else bad = mid;
  }
  return bad;
}

std::set<DeviceId> devices_of(const std::vector<const Holding*>& holdings) {
  std::set<DeviceId> out;
  for (const Holding* h : holdings)
    for (const auto& c : h->chains) out.insert(c.device);
  return out;
}

std::string name_in(const std::vector<const Holding*>& holdings, const DeviceId& device) {
  for (const Holding* h : holdings)
    if (!h->name_of(device).empty()) return h->name_of(device);
  return "";
}

}  // namespace

Difference diff(const Holding& first, const Holding& second) {
  if (first.fingerprint && second.fingerprint && first.fingerprint->scope != second.fingerprint->scope)
    throw Error(Errc::invalid_argument, first.path + " and " + second.path + " are fingerprints of different scopes: "
                                        "open both for one scope (`ferry diff --scope S`)");
  Difference d;
  const std::vector<const Holding*> both{&first, &second};
  for (const DeviceId& device : devices_of(both)) {
    const Holding::Chain none{device, 1, 0, {}};
    const Holding::Chain* a = first.chain(device);
    const Holding::Chain* b = second.chain(device);
    const Holding::Chain& ca = a ? *a : none;
    const Holding::Chain& cb = b ? *b : none;
    DeviceDifference dd{device, name_in(both, device), {}, {}, 0, false};
    subtract(device, ca.first, ca.last, cb.first, cb.last, dd.only_first);
    subtract(device, cb.first, cb.last, ca.first, ca.last, dd.only_second);
    const std::uint64_t low = std::max(ca.first, cb.first), top = std::min(ca.last, cb.last);
    if (low <= top) {
      const auto ha = hash_of(first, ca, top), hb = hash_of(second, cb, top);
      if (!ha || !hb)
        dd.unchecked = true;
      else if (*ha != *hb)
        dd.forked_at = first_fork(first, ca, second, cb, low, top);
    }
    if (!dd.only_first.empty() || !dd.only_second.empty() || dd.forked_at != 0 || dd.unchecked)
      d.devices.push_back(std::move(dd));
  }
  d.same_operations = d.devices.empty();
  if (first.fingerprint && second.fingerprint) {
    const Fingerprint &fa = *first.fingerprint, &fb = *second.fingerprint;
    d.same_data = fa.state == fb.state;
    for (const auto& ta : fa.tables) {
      auto it = std::find_if(fb.tables.begin(), fb.tables.end(), [&](const TableDigest& t) { return t.name == ta.name; });
      if (it == fb.tables.end())
        d.tables_only_first.push_back(ta.name);
      else if (it->digest != ta.digest)
        d.tables_differ.push_back(ta.name);
    }
    for (const auto& tb : fb.tables)
      if (std::none_of(fa.tables.begin(), fa.tables.end(), [&](const TableDigest& t) { return t.name == tb.name; }))
        d.tables_only_second.push_back(tb.name);
  }
  return d;
}

std::vector<SyncGroup> network(const std::vector<Holding>& holdings) {
  for (const auto& h : holdings)
    if (!h.fingerprint)
      throw Error(Errc::invalid_argument, h.path + ": a bundle holds only what one device sent another; give "
                                                   "databases or fingerprint files");
  std::vector<SyncGroup> groups;
  auto same_chains = [&](const Holding& a, const Holding& b) { return diff(a, b).same_operations; };
  for (std::size_t i = 0; i < holdings.size(); ++i) {
    std::size_t g = 0;
    for (; g < groups.size(); ++g) {
      const Holding& rep = holdings[groups[g].members[0]];
      if (same_chains(rep, holdings[i]) && rep.fingerprint->state == holdings[i].fingerprint->state) break;
    }
    if (g == groups.size()) groups.push_back(SyncGroup{});
    groups[g].members.push_back(i);
  }
  std::vector<const Holding*> all;
  for (const auto& h : holdings) all.push_back(&h);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const Holding& rep = holdings[groups[g].members[0]];
    for (const DeviceId& device : devices_of(all)) {
      const Holding::Chain* mine = rep.chain(device);
      std::uint64_t most = 0;
      for (const auto& h : holdings)
        if (const Holding::Chain* c = h.chain(device)) most = std::max(most, c->last);
      const std::uint64_t have = mine ? mine->last : 0;
      if (have < most) groups[g].missing.push_back(SeqRange{device, have + 1, most});
      if (!mine) continue;
      for (const auto& h : holdings) {
        const Holding::Chain* c = h.chain(device);
        if (c == nullptr || c->last < have) continue;
        const auto theirs = hash_of(h, *c, have);
        if (theirs && *theirs != mine->last_hash) {
          groups[g].forks.push_back(SeqRange{device, have, have});
          break;
        }
      }
    }
    for (std::size_t o = 0; o < groups.size(); ++o)
      if (o != g && same_chains(rep, holdings[groups[o].members[0]])) groups[g].data_differs = true;
  }
  return groups;
}

}  // namespace ferry
