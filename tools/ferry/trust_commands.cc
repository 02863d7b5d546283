// `ferry trust DB list|add|remove|policy`: which devices this database accepts
// operations from (bundle_format/README.md, "Signatures"); `ferry reidentify
// DB`: a new identity for a database another one shares its identity with;
// `ferry compat DB 3|4`: whether this device's changes can reach ferry 3.x peers.
#include <iostream>

#include "commands.h"
#include "ferry/engine.h"
#include "render.h"

namespace ferry::cli {

int cmd_trust(const TrustArgs& a) {
  auto want = [&](std::size_t n, const char* usage) {
    if (a.args.size() != n)
      throw Error(Errc::invalid_argument, std::string("usage: ferry trust ") + a.db + " " + a.action + " " + usage);
  };
  auto e = open_engine(a.db);
  if (a.action == "add") {
    want(2, "DEVICE KEY [--name NAME] [--forget]   (KEY: the public key `ferry status` shows on that device)");
    const TrustAdded r = e.trust_add(a.args[0], a.args[1], a.name, a.forget);
    if (a.json) {
      print(render::trust_added(r));
      return kOk;
    }
    if (r.replaced) std::cout << "replaced key " << r.previous_fingerprint << "\n";
    if (r.forgotten > 0 || r.forgotten_up_to > 0) {
      std::cout << "forgot operations 1-" << r.forgotten_up_to << " of device " << a.args[0] << " (" << r.forgotten
                << " held here), signed with that key; " << r.rows
                << " row(s) they wrote now hold what the other devices wrote\n";
      if (r.followers > 0)
        std::cout << r.followers << " operation(s) of other devices held here had followed them and stay; their clocks "
                  << "still name those numbers, so a database that never held them applies them once it holds the "
                  << "device's own operations up to " << r.followed_up_to << "\n";
    }
    std::cout << "trusting device " << a.args[0] << " with the key given; its bundles are accepted from now on\n";
  } else if (a.action == "remove") {
    want(1, "DEVICE");
    e.trust_remove(a.args[0]);
    std::cout << "no longer trusting device " << a.args[0] << ": its operations are refused, also when relayed\n";
  } else if (a.action == "policy") {
    want(1, "strict|tofu");
    if (a.args[0] != "strict" && a.args[0] != "tofu")
      throw Error(Errc::invalid_argument, "the trust policy is `strict` (only devices added with `ferry trust " + a.db +
                                              " add`) or `tofu` (trust a new device's key on first use)");
    e.set_strict(a.args[0] == "strict");
    std::cout << "trust policy: " << a.args[0] << "\n";
  } else {  // list
    want(0, "");
    const auto devices = e.trusted();
    if (a.json) {
      json out = json::array();
      for (const auto& p : devices) out.push_back(render::peer(p));
      print(out);
      return kOk;
    }
    for (const auto& p : devices)
      std::cout << device_label(p.id, p.name) << "  " << (p.is_self ? "this device, key " + p.fingerprint : trust_words(p))
                << "\n";
  }
  return kOk;
}

int cmd_reidentify(const std::string& db, bool as_json) {
  auto e = open_engine(db);
  const std::string name = e.device_name();
  const Reidentified r = e.reidentify();
  if (as_json) {
    print(render::reidentified(r));
    return kOk;
  }
  if (!r.evidence.empty()) std::cout << "the import that stopped sealing here found: " << r.evidence << "\n";
  std::cout << "this database is now device " << device_label(r.device, name) << ", key " << r.fingerprint << "\n"
            << "its old identity " << r.previous.to_string() << " is a device like any other: this database holds its "
            << "operations up to " << r.previous_head << ", and the others come from the devices that have them\n";
  if (r.reissued > 0)
    std::cout << r.reissued << " operation(s) sealed here under the old identity after that, which never left this "
              << "database, are now operations 1-" << r.reissued << " of the new one, with the same changes; where "
              << "the old identity changed the same values elsewhere, every device records a conflict\n";
  if (const FleetInfo f = e.fleet(); f.administrator)
    std::cout << "in its fleet this is a new device: the administrator grants it (`ferry fleet ITS_DB grant "
              << r.device.to_string() << " --write-shared`)"
              << (r.reissued > 0 ? " and allows what was made again (`ferry fleet ITS_DB admit " + r.device.to_string() +
                                       ":" + std::to_string(r.reissued) + "`)"
                                 : std::string())
              << "; until then its changes are held here\n";
  std::cout << "changes made here while sealing was stopped are now sealed under the new identity\n"
            << "next: export to your peers as usual; under the strict trust policy each of them first runs\n"
            << "  ferry trust THEIR_DB add " << r.device.to_string() << " " << r.public_key << "\n";
  return kOk;
}

int cmd_compat(const std::string& db, const std::string& version) {
  auto e = open_engine(db);
  if (version == "3" || version == "4") e.set_ferry3_compatible(version == "3");
  if (e.ferry3_compatible())
    std::cout << "this device seals its changes so that ferry 3.x peers can read them: send them with `ferry export "
              << db << " --format 3`; once every peer runs ferry 4, `ferry compat " << db << " 4`\n";
  else
    std::cout << "this device seals its changes for ferry 4 peers only (bundle format 4.0); while a peer still runs "
                 "ferry 3.x, `ferry compat " << db << " 3` lets what is changed from then on reach it\n";
  return kOk;
}

}  // namespace ferry::cli
