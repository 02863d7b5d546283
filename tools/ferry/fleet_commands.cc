// `ferry fleet DB init|invite|join|grant|revoke|admit|list`: the fleet's administrator and
// what each device may write (bundle_format/format4.md §12.3).
#include <iostream>

#include "commands.h"
#include "ferry/engine.h"
#include "render.h"

namespace ferry::cli {
namespace {

std::string scope_words(const std::vector<std::string>& scopes) {
  if (scopes.empty()) return "nothing";
  std::string out;
  for (const auto& s : scopes)
    out += (out.empty() ? "" : ", ") + (s.empty() ? std::string("shared tables") : s == "*" ? "every scope" : "'" + s + "'");
  return out;
}

}  // namespace

std::string grant_words(const GrantInfo& g) {
  if (g.read.empty() && g.write.empty() && g.relay.empty())
    return "revoked (the administrator's operation " + std::to_string(g.admin_seq) + ")";
  std::string out = "writes " + scope_words(g.write);
  if (!g.read.empty()) out += "; reads shared tables and " + scope_words(g.read);
  if (!g.relay.empty()) out += "; relays " + scope_words(g.relay);
  return out + " (the administrator's operation " + std::to_string(g.admin_seq) + ")";
}

std::string scopes_line(const StatusReport& s) {
  if (s.scopes.empty()) return {};
  std::string out = "scopes     ";
  for (const auto& h : s.scopes) {
    out += (&h == &s.scopes[0] ? "" : "; ") + std::string("'") + printable(h.scope) + "' " +
           (h.reads ? plural(h.operations, "operation", "operations") : std::string("relayed"));
    if (h.waiting > 0) out += ", " + std::to_string(h.waiting) + (h.reads ? " waiting" : " carried");
  }
  return out + "\n";
}

std::string removed_scope_line(const ScopeRemoved& r) {
  const std::string scope = "scope '" + printable(r.scope) + "'";
  if (r.unsent > 0)
    return "this device may no longer read " + scope + ", but " + plural(r.unsent, "operation", "operations") +
           " it wrote there reached no peer yet: kept until one has (export to a peer and import its bundle back)";
  std::string out;
  if (r.operations > 0 || r.rows > 0)
    out = "this device may no longer read " + scope + ": removed " + plural(r.rows, "row", "rows") + " and " +
          plural(r.operations, "operation", "operations") + " of it here (they stay on the devices that may read it)";
  if (r.left_out > 0)
    out += (out.empty() ? "" : "; ") + std::string("left out ") + plural(r.left_out, "operation", "operations") +
           " of " + scope + " received, which this device may not read";
  return out;
}

namespace {

void show(const FleetInfo& f) {
  if (!f.administrator) {
    std::cout << "in no fleet: every device writes everything (`ferry fleet DB init` on the device that will "
                 "administer one)\n";
    return;
  }
  std::cout << "administrator: " << f.administrator->to_string() << "\n";
  if (!f.started)
    std::cout << "its first grant has not arrived: import a bundle from it; until then, other devices' operations "
                 "wait (pending) and this device's changes stay here\n";
  for (const auto& g : f.grants)
    std::cout << device_label(g.device, g.name) << "  "
              << (g.device == *f.administrator ? std::string("administrator: reads and writes every scope")
                                               : grant_words(g))
              << "\n";
}

}  // namespace

std::string fleet_line(const StatusReport& s) {
  if (!s.fleet.administrator) return {};
  std::string out = "fleet      administrator " + short_id(*s.fleet.administrator);
  if (*s.fleet.administrator == s.device) return out + " (this device)\n";
  if (!s.fleet.started) return out + "; its first grant has not arrived (import a bundle from it)\n";
  for (const auto& g : s.fleet.grants)
    if (g.device == s.device) return out + "; this device " + grant_words(g) + "\n";
  return out + "; this device has no grant: it writes nothing (ask the administrator)\n";
}

int cmd_fleet(const FleetArgs& a) {
  auto want = [&](std::size_t n, const char* usage) {
    if (a.args.size() != n)
      throw Error(Errc::invalid_argument, std::string("usage: ferry fleet ") + a.db + " " + a.action + " " + usage);
  };
  auto e = open_engine(a.db);
  if (a.action == "grant" || a.action == "revoke") {
    want(1, a.action == "grant" ? "DEVICE [--write-shared] [--read SCOPE]... [--write SCOPE]... [--relay SCOPE]..."
                                : "DEVICE");
    GrantInfo sets;
    sets.read = a.read;
    sets.write = a.write;
    sets.relay = a.relay;
    if (a.write_shared) sets.write.push_back("");
    const GrantInfo g = a.action == "grant" ? e.grant(a.args[0], sets) : e.revoke(a.args[0]);
    if (a.json) {
      print(render::grant(g));
      return kOk;
    }
    std::cout << device_label(g.device, g.name) << " " << grant_words(g) << "\n"
              << "next: export to the fleet as usual; each device applies the grant when the bundle arrives\n";
    return kOk;
  }
  FleetInfo f;
  if (a.action == "init") {
    want(0, "");
    f = e.fleet_init();
  } else if (a.action == "admit") {
    want(1, "DEVICE:SEQ[,DEVICE:SEQ...]   (what those devices wrote up to there is allowed)");
    f = e.admit(a.args[0]);
  } else if (a.action == "invite") {
    want(0, "");
    f = e.fleet();
    if (!f.administrator) throw Error(Errc::refused, a.db + ": is in no fleet; `ferry fleet " + a.db + " init` starts one");
    if (!a.json) {  // What `join` takes, on one line: `ferry fleet THEIR_DB join $(ferry fleet DB invite)`.
      std::cout << f.administrator->to_string() << " " << f.administrator_key << "\n";
      return kOk;
    }
  } else if (a.action == "join") {
    want(2, "ADMIN_DEVICE KEY [--name NAME]   (the id and key `ferry status` shows on the administrator)");
    f = e.fleet_join(a.args[0], a.args[1], a.name);
  } else {  // list
    want(0, "");
    f = e.fleet();
  }
  if (a.json) {
    print(render::fleet(f));
    return kOk;
  }
  show(f);
  if (a.action == "init")
    std::cout << "next: on every other device, `ferry fleet THEIR_DB join " << e.device_id().to_string() << " "
              << e.public_key() << "`\n(what `ferry fleet " << a.db << " invite` prints, on this or any member);\nhere, `ferry fleet " << a.db
              << " grant DEVICE --write-shared` for each device that may change the shared tables\n";
  return kOk;
}

}  // namespace ferry::cli
