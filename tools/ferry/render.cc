#include "render.h"

#include <iostream>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace ferry::cli {

std::string short_id(const DeviceId& id) { return id.to_string().substr(28); }  // The random tail: v7 ids start with time.

std::vector<std::string> ids(const std::vector<DeviceId>& devices) {
  std::vector<std::string> out;
  for (const auto& d : devices) out.push_back(d.to_string());
  return out;
}

std::string device_label(const DeviceId& id, const std::string& name) {
  return name.empty() ? short_id(id) : printable(name) + " (" + short_id(id) + ")";  // Names come from other devices.
}

std::string chain_text(const BundleInfo& b, const DeviceId& chain) {
  for (const auto& c : b.scoped_chains)
    if (c.chain == chain) return c.device.to_string() + " in scope '" + printable(c.scope) + "'";
  return chain.to_string();
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string key_text(const std::vector<Value>& key) {
  std::string out;
  for (const auto& k : key) out += (out.empty() ? "" : ", ") + printable(k.to_display());  // Values come from other devices.
  return out;
}

std::map<DeviceId, std::string> device_names(Engine& e) {
  std::map<DeviceId, std::string> names;
  for (const auto& p : e.peers()) names[p.id] = p.name;
  for (const auto& c : e.scoped_chains())  // Shown as its device, in its scope.
    names[c.chain] = (names[c.device].empty() ? short_id(c.device) : printable(names[c.device])) + " in scope '" +
                     printable(c.scope) + "'";
  return names;
}

std::string spoken(const Hash& h) {
  const std::string hex = to_hex(h);
  return hex.substr(0, 4) + " " + hex.substr(4, 4) + " " + hex.substr(8, 4) + " " + hex.substr(12, 4) + " " +
         hex.substr(16, 4);
}

// Names other devices chose may hold any bytes: what is not UTF-8 is shown as U+FFFD, never an error.
void print(const json& j) { std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n"; }

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
