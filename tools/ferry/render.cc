#include "render.h"

#include <iostream>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace ferry::cli {

std::string short_id(const DeviceId& id) { return id.to_string().substr(28); }  // The random tail: v7 ids start with time.

std::string device_label(const DeviceId& id, const std::string& name) {
  return name.empty() ? short_id(id) : name + " (" + short_id(id) + ")";
}

void print(const json& j) { std::cout << j.dump(2) << "\n"; }

std::string trust_words(const PeerInfo& p) {
  std::string out;
  switch (p.trust) {
    case Trust::self: out = "this device's key"; break;
    case Trust::added: out = "trusted (added)"; break;
    case Trust::tofu: out = "trusted (on first use)"; break;
    case Trust::removed: out = "NOT trusted (removed)"; break;
    case Trust::none: out = "key never seen"; break;
  }
  if (!p.fingerprint.empty() && p.trust != Trust::self) out += ", key " + p.fingerprint;
  if (p.forked) out += ", FORKED HISTORY (see status)";
  return out;
}

}  // namespace ferry::cli
