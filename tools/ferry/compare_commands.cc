// Comparing devices that never meet: fingerprint, diff, network, prove,
// check-proof (bundle_format/README.md, "Fingerprints").
#include <cctype>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "ferry/compare.h"
#include "ferry/engine.h"
#include "render.h"

namespace ferry::cli {
namespace {

std::string seqs_text(const std::vector<SeqRange>& ranges) {
  std::string out;
  for (const auto& r : ranges)
    out += (out.empty() ? "" : ", ") + std::to_string(r.first) + (r.last == r.first ? "" : "-" + std::to_string(r.last));
  return out;
}

// "device clinic (ab12cd34) 41-52, ship (...) 3".
std::string ranges_text(const std::vector<SeqRange>& ranges, const std::map<DeviceId, std::string>& names) {
  std::string out;
  for (const auto& r : ranges) {
    auto it = names.find(r.device);
    out += (out.empty() ? "" : ", ") + device_label(r.device, it == names.end() ? "" : it->second) + " " + seqs_text({r});
  }
  return out;
}

json ranges_json(const std::vector<SeqRange>& ranges) { return to_json(ranges); }

std::string holding_title(const Holding& h) {
  return h.path + " (" + h.kind + (h.label == h.path ? "" : ", " + printable(h.label)) + ")";
}

// A root as typed: 64 hex digits, or at least the 20 that `ferry fingerprint` groups for reading aloud.
std::string root_digits(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      throw Error(Errc::invalid_argument, "ROOT: '" + text.substr(0, 80) + "' is not hex digits");
    digits += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (digits.size() < 20 || digits.size() > 64)
    throw Error(Errc::invalid_argument, "ROOT: give the operations root `ferry fingerprint` printed: all 64 hex digits, "
                                        "or at least its first 20 (the five groups read aloud); got " +
                                            std::to_string(digits.size()));
  return digits;
}

}  // namespace

int cmd_fingerprint(const std::string& db, const std::string& out, bool as_json, const std::optional<std::string>& scope) {
  auto e = open_engine(db);
  if (!out.empty()) e.check_output(out, "fingerprint");
  const Fingerprint f = scope ? e.fingerprint(*scope) : e.fingerprint();
  if (!out.empty()) {
    write_fingerprint(f, out);
    if (!as_json) std::cout << "wrote " << out << ": compare it on another device with `ferry diff DB " << out << "`\n";
  }
  if (as_json) {
    print(render::fingerprint(f));
    return kOk;
  }
  if (f.scope)
    std::cout << "scope      " << (f.scope->empty() ? std::string("the shared tables alone")
                                                    : "'" + printable(*f.scope) + "' and the shared tables") << "\n";
  std::cout << "operations " << spoken(f.operations) << "  (" << plural(f.operation_count, "operation", "operations")
            << "; root " << to_hex(f.operations) << ")\n"
            << "data       " << spoken(f.state) << "  (tracked tables; digest " << to_hex(f.state) << ")\n";
  auto names = device_names(e);
  for (const auto& h : f.heads)
    std::cout << "  " << device_label(h.device, names[h.device]) << " up to " << h.seq << "  " << to_hex(h.hash).substr(0, 16)
              << (h.base ? "  (held from " + std::to_string(h.base + 1) + ": started from a snapshot)" : "") << "\n";
  return kOk;
}

int cmd_diff(const std::string& first, const std::string& second, bool as_json, std::optional<std::string> scope) {
  Holding a = Holding::open(first, scope), b = Holding::open(second, scope);
  if (!scope) {  // A fingerprint file of one scope says which: both sides are opened for it.
    for (const Holding* h : {&a, &b})
      if (!scope && h->kind == "fingerprint" && h->fingerprint->scope) scope = h->fingerprint->scope;
    if (scope) a = Holding::open(first, scope), b = Holding::open(second, scope);
  }
  const Difference d = diff(a, b);
  if (as_json) {
    json devices = json::array();
    for (const auto& dd : d.devices)
      devices.push_back({{"device", dd.device.to_string()}, {"name", dd.name}, {"only_first", ranges_json(dd.only_first)},
                         {"only_second", ranges_json(dd.only_second)}, {"forked_at", dd.forked_at},
                         {"unchecked", dd.unchecked}});
    print({{"first", {{"path", a.path}, {"kind", a.kind}}}, {"second", {{"path", b.path}, {"kind", b.kind}}},
           {"scope", scope ? json(*scope) : json(nullptr)},
           {"identical", d.identical()}, {"same_operations", d.same_operations},
           {"same_data", d.same_data ? json(*d.same_data) : json(nullptr)}, {"devices", devices},
           {"tables_differ", d.tables_differ}, {"tables_only_first", d.tables_only_first},
           {"tables_only_second", d.tables_only_second}});
    return d.identical() ? kOk : kDiffer;
  }
  std::cout << "1: " << holding_title(a) << "\n2: " << holding_title(b) << "\n";
  if (scope) std::cout << "compared: the shared tables" << (scope->empty() ? "" : " and scope '" + printable(*scope) + "'") << "\n";
  if (d.identical()) {
    std::cout << "identical: the same operations and the same rows\n";
    return kOk;
  }
  if (d.same_operations)
    std::cout << "same operations" << (a.kind == "bundle" || b.kind == "bundle" ? " (as far as the bundle shows)" : "")
              << "\n";
  for (const auto& dd : d.devices) {
    std::vector<std::string> parts;
    if (!dd.only_first.empty()) parts.push_back("only in 1: " + seqs_text(dd.only_first));
    if (!dd.only_second.empty()) parts.push_back("only in 2: " + seqs_text(dd.only_second));
    if (dd.forked_at)
      parts.push_back("FORKED: both hold an operation " + std::to_string(dd.forked_at) +
                      " of this device, with different hashes (`ferry status` on each says more)");
    if (dd.unchecked) parts.push_back("whether the part both hold is the same cannot be checked from these files");
    std::cout << "device " << device_label(dd.device, dd.name) << ": ";
    for (std::size_t i = 0; i < parts.size(); ++i) std::cout << (i ? "; " : "") << parts[i];
    std::cout << "\n";
  }
  if (d.same_data) {
    if (*d.same_data) std::cout << "same rows in the tracked tables\n";
    for (const auto& t : d.tables_differ) std::cout << "table " << t << " differs\n";
    for (const auto& t : d.tables_only_first) std::cout << "table " << t << " is tracked only in 1\n";
    for (const auto& t : d.tables_only_second) std::cout << "table " << t << " is tracked only in 2\n";
  } else {
    std::cout << "rows: not compared (a bundle carries operations, not tables)\n";
  }
  return kDiffer;
}

int cmd_network(const std::vector<std::string>& paths, bool as_json) {
  std::vector<Holding> holdings;
  for (const auto& p : paths) holdings.push_back(Holding::open(p));
  const auto groups = network(holdings);
  auto label = [&](std::size_t i) {
    const Holding& h = holdings[i];
    return h.label == h.path ? h.path : h.path + " (" + printable(h.label) + ")";
  };
  std::map<DeviceId, std::string> names;
  for (const auto& h : holdings)
    for (const auto& [id, name] : h.names)
      if (!name.empty()) names[id] = name;
  if (as_json) {
    json out = json::array();
    for (const auto& g : groups) {
      json members = json::array();
      for (std::size_t i : g.members) members.push_back({{"path", holdings[i].path}, {"label", label(i)}});
      const Fingerprint& f = *holdings[g.members[0]].fingerprint;
      out.push_back({{"members", members}, {"operations", to_hex(f.operations)}, {"state", to_hex(f.state)},
                     {"missing", ranges_json(g.missing)}, {"forks", ranges_json(g.forks)},
                     {"data_differs", g.data_differs}});
    }
    print(out);
    return groups.size() <= 1 ? kOk : kDiffer;
  }
  for (const auto& g : groups) {
    std::string members;
    for (std::size_t k = 0; k < g.members.size(); ++k)
      members += (k == 0 ? "" : k + 1 == g.members.size() ? " and " : ", ") + label(g.members[k]);
    const Fingerprint& f = *holdings[g.members[0]].fingerprint;
    std::cout << members << (g.members.size() > 1 ? " agree" : "") << "  (operations " << spoken(f.operations) << ", data "
              << spoken(f.state) << ")";
    if (groups.size() == 1) std::cout << ": all in sync";
    std::cout << "\n";
    if (!g.missing.empty()) std::cout << "  behind: lacks " << ranges_text(g.missing, names) << "\n";
    if (!g.forks.empty())
      std::cout << "  FORK: holds " << ranges_text(g.forks, names) << " with another hash than others hold\n";
    if (g.data_differs) std::cout << "  same operations as another group, but other rows (`ferry diff` says which tables)\n";
    if (groups.size() > 1 && g.missing.empty() && g.forks.empty() && !g.data_differs)
      std::cout << "  holds everything the others hold\n";
  }
  return groups.size() <= 1 ? kOk : kDiffer;
}

int cmd_prove(const std::string& db, const std::string& operation, const std::string& out, bool as_json) {
  const auto id = Uuid::parse(operation);
  if (!id)
    throw Error(Errc::invalid_argument, "'" + operation.substr(0, 80) + "' is not an operation id (`ferry log " + db +
                                            " --json` shows each operation's id)");
  auto e = open_engine(db);
  if (!out.empty()) e.check_output(out, "proof");
  const InclusionProof p = e.prove(*id);
  const Hash root = *root_of(p);
  if (!out.empty()) p.write(out);
  if (as_json) {
    json path = json::array();
    for (const auto& h : p.path) path.push_back(to_hex(h));
    print({{"operation", id->to_string()}, {"operation_hash", to_hex(p.operation_hash)}, {"index", p.index},
           {"size", p.size}, {"path", path}, {"root", to_hex(root)}, {"proof", p.to_text()}});
    return kOk;
  }
  std::cout << "operation " << id->to_string() << " (hash " << to_hex(p.operation_hash) << ")\n"
            << "is operation " << p.index + 1 << " of " << p.size << " under the operations root " << to_hex(root) << "\n"
            << "proof" << (out.empty() ? "" : " (also in " + out + ")")
            << "; check it anywhere with `ferry check-proof ROOT PROOF`:\n"
            << p.to_text() << "\n";
  return kOk;
}

int cmd_check_proof(const std::string& root_text, const std::string& proof_text, bool as_json) {
  const std::string digits = root_digits(root_text);
  std::string text = proof_text;
  if (proof_text.rfind("ferry-proof-", 0) != 0) {  // A file holding the proof.
    std::ifstream in(proof_text, std::ios::binary);
    if (!in)
      throw Error(Errc::invalid_argument, "PROOF: '" + proof_text.substr(0, 80) +
                                              "' is neither a proof (ferry-proof-1:...) nor a readable file");
    text.assign(1 << 16, '\0');  // A proof of a tree of 2^64 operations is under 5 KB.
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
  }
  const InclusionProof p = InclusionProof::parse(text);
  const auto root = root_of(p);
  const bool ok = root && to_hex(*root).compare(0, digits.size(), digits) == 0;
  if (as_json) {
    print({{"valid", ok}, {"operation_hash", to_hex(p.operation_hash)}, {"index", p.index}, {"size", p.size},
           {"root", root ? json(to_hex(*root)) : json(nullptr)}, {"root_digits_checked", digits.size()}});
  } else if (ok) {
    std::cout << "valid: the operation with hash " << to_hex(p.operation_hash) << " is operation " << p.index + 1 << " of "
              << p.size << " under root " << to_hex(*root)
              << (digits.size() < 64 ? " (" + std::to_string(digits.size()) + " of its 64 digits checked)" : "") << "\n";
  }
  if (!ok)
    throw Error(Errc::corrupt, !root ? "the proof is malformed: its " + std::to_string(p.path.size()) +
                                           " sibling hashes cannot belong to a tree of " + std::to_string(p.size) +
                                           " operations"
                                     : "the proof does not lead to root " + digits + " (it leads to " + to_hex(*root) +
                                           "): the operation is not among those that root covers, or the proof "
                                           "or the root was changed");
  return kOk;
}

}  // namespace ferry::cli
