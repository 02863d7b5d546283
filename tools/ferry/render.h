#pragma once
// How the tool shows ferry's values to people; the JSON forms (--json) are the
// library's (ferry/json.h), shared with the C API and the SQLite extension.

#include <map>
#include <string>
#include <vector>

#include "ferry/engine.h"
#include "ferry/json.h"

namespace ferry::cli {

using render::iso_time;
using render::json;
using render::to_json;

void print(const json& j);  // To standard output, indented.
// "trusted (added), key 3f2a 91c0 ...", "not trusted (removed)", "FORKED ...": for people.
std::string trust_words(const PeerInfo& p);

std::string plural(std::size_t n, const char* one, const char* many);  // "1 row", "2 rows".
std::string key_text(const std::vector<Value>& key);                  // "1, 'a'".
std::map<DeviceId, std::string> device_names(Engine& e);              // Every known device's name.
// The first 20 hex digits, in groups of four: what two people read to each other.
std::string spoken(const Hash& h);
std::string short_id(const DeviceId& id);  // Last 8 hex digits (the random part), for people.
std::vector<std::string> ids(const std::vector<DeviceId>& devices);  // Each in full.
std::string device_label(const DeviceId& id, const std::string& name);  // "office (0192ab34)".
// "DEVICE-ID in scope 'S'" for a chain of a scope the bundle names, else the chain's id: its device.
std::string chain_text(const BundleInfo& b, const DeviceId& chain);

}  // namespace ferry::cli
