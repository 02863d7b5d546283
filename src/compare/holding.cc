// Holding::open: what a database, a bundle or a fingerprint file holds, seen
// the same way so that any two can be compared.
#include <sys/stat.h>

#include <algorithm>

#include "ferry/compare.h"
#include "ferry/engine.h"
#include "log/store.h"
#include "replica/devices.h"
#include "sql/database.h"
#include "util/files.h"

namespace ferry {
namespace {

enum class Kind { database, bundle, fingerprint, other };

Kind kind_of(const std::string& path) {
  if (looks_like_bundle(path)) return Kind::bundle;
  const std::string header = util::read_head(path, 16);  // Never blocks: a FIFO is refused.
  if (header == std::string("SQLite format 3\0", 16)) return Kind::database;
  for (char c : header) {
    if (c == '{') return Kind::fingerprint;
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
  }
  return Kind::other;
}

std::vector<Holding::Chain> chains_of(const Fingerprint& f) {
  std::vector<Holding::Chain> out;
  for (const auto& h : f.heads) out.push_back(Holding::Chain{h.device, 1, h.seq, h.hash});
  return out;
}

// Hash lookups in a database's log, on a connection of their own.
struct LogReader {
  sql::Database db;
  replica::Devices devices;
  log::Store store;
  explicit LogReader(const std::string& path)
      : db(path, sql::Database::Mode::open), devices(db), store(db, devices) {}
};

std::string scope_words(const std::optional<std::string>& scope) {
  return scope ? "of scope '" + printable(*scope) + "' (and the shared tables)" : std::string("of everything held");
}

Holding open_database(const std::string& path, const std::optional<std::string>& scope) {
  Holding h;
  auto engine = Engine::open(path);
  h.fingerprint = scope ? engine.fingerprint(*scope) : engine.fingerprint();
  h.label = engine.device_name().empty() ? path : engine.device_name();
  for (const auto& p : engine.trusted()) h.names[p.id] = p.name;
  h.chains = chains_of(*h.fingerprint);
  auto reader = std::make_shared<LogReader>(path);
  h.hash_at = [reader](const DeviceId& device, std::uint64_t seq) -> std::optional<Hash> {
    if (reader->devices.find(device) == nullptr) return std::nullopt;
    return reader->store.hash(device, seq);
  };
  return h;
}

Holding open_bundle(const std::string& path, const std::optional<std::string>& scope) {
  Holding h;
  const BundleInfo info = inspect_bundle(path);
  if (info.encrypted_for)
    throw Error(Errc::refused, path + ": an encrypted bundle; only the device it is for can read it (compare there, "
                                      "or compare a fingerprint file instead)");
  h.label = "bundle from " + (info.exporter_name.empty() ? info.exporter.to_string().substr(0, 8) : info.exporter_name);
  h.names[info.exporter] = info.exporter_name;
  std::map<DeviceId, std::string> scope_of;  // The bundle's chains of a scope.
  for (const ScopedChain& c : info.scoped_chains) scope_of[c.chain] = c.scope;
  auto known = std::make_shared<std::map<std::pair<DeviceId, std::uint64_t>, Hash>>();
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    const SeqRange& r = info.ranges[i];
    if (const auto s = scope_of.find(r.device); scope && s != scope_of.end() && s->second != *scope) continue;
    h.chains.push_back(Holding::Chain{r.device, r.first, r.last, info.last_hashes[i]});
    (*known)[{r.device, r.last}] = info.last_hashes[i];
    if (r.first > 1 && !info.snapshot) (*known)[{r.device, r.first - 1}] = info.prerequisites[i];
  }
  std::sort(h.chains.begin(), h.chains.end(), [](const auto& a, const auto& b) { return a.device < b.device; });
  h.hash_at = [known](const DeviceId& device, std::uint64_t seq) -> std::optional<Hash> {
    auto it = known->find({device, seq});
    if (it == known->end()) return std::nullopt;
    return it->second;
  };
  return h;
}

Holding open_fingerprint(const std::string& path, const std::optional<std::string>& scope) {
  Holding h;
  h.fingerprint = read_fingerprint(path);
  if (scope && h.fingerprint->scope != scope)
    throw Error(Errc::invalid_argument, path + ": a fingerprint " + scope_words(h.fingerprint->scope) +
                                            ", not " + scope_words(scope) + ": compare it " +
                                            (h.fingerprint->scope ? "with --scope '" + printable(*h.fingerprint->scope) + "'"
                                                                  : std::string("without --scope")) +
                                            ", or write one " + scope_words(scope) + " there");
  h.label = h.fingerprint->device_name.empty() ? path : h.fingerprint->device_name;
  h.names[h.fingerprint->device] = h.fingerprint->device_name;
  h.chains = chains_of(*h.fingerprint);
  auto heads = std::make_shared<std::vector<Holding::Chain>>(h.chains);
  h.hash_at = [heads](const DeviceId& device, std::uint64_t seq) -> std::optional<Hash> {
    for (const auto& c : *heads)
      if (c.device == device && c.last == seq) return c.last_hash;
    return std::nullopt;
  };
  return h;
}

}  // namespace

Holding Holding::open(const std::string& path, const std::optional<std::string>& scope) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error(Errc::not_found, path + ": no such file (check the path)");
  Holding h;
  switch (kind_of(path)) {
    case Kind::database: h = open_database(path, scope), h.kind = "database"; break;
    case Kind::bundle: h = open_bundle(path, scope), h.kind = "bundle"; break;
    case Kind::fingerprint: h = open_fingerprint(path, scope), h.kind = "fingerprint"; break;
    case Kind::other:
      throw Error(Errc::invalid_argument, path + ": neither a ferry database, a bundle nor a fingerprint file "
                                                 "(`ferry fingerprint DB --out FILE` writes one)");
  }
  h.path = path;
  return h;
}

const Holding::Chain* Holding::chain(const DeviceId& device) const {
  for (const auto& c : chains)
    if (c.device == device) return &c;
  return nullptr;
}

std::string Holding::name_of(const DeviceId& device) const {
  auto it = names.find(device);
  return it == names.end() ? "" : it->second;
}

}  // namespace ferry
