// The C API's fleet functions (include/ferry/ferry.h; bundle_format/README.md §17).
#include "capi/capi.h"
#include "ferry/json.h"

using namespace ferry::capi;

namespace {

void fleet_out(const ferry::FleetInfo& f, char** json) {
  if (json) *json = copy_out(ferry::render::fleet(f).dump());
}

}  // namespace

ferry_code ferry_fleet(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(json, "json");
    fleet_out(e.fleet(), json);
  });
}

ferry_code ferry_fleet_init(ferry_db* db, char** json) {
  return guarded(db, [&](ferry::Engine& e) { fleet_out(e.fleet_init(), json); });
}

ferry_code ferry_fleet_join(ferry_db* db, const char* administrator, const char* key, const char* name, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(administrator, "the administrator");
    require(key, "the key");
    fleet_out(e.fleet_join(administrator, key, name ? name : ""), json);
  });
}

ferry_code ferry_fleet_grant(ferry_db* db, const char* device, int write_shared, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(device, "the device");
    ferry::GrantInfo sets;
    if (write_shared) sets.write.push_back("");
    const ferry::GrantInfo g = e.grant(device, sets);
    if (json) *json = copy_out(ferry::render::grant(g).dump());
  });
}

namespace {

std::vector<std::string> names_of(const char* const* list) {
  std::vector<std::string> out;
  for (; list != nullptr && *list != nullptr; ++list) out.emplace_back(*list);
  return out;
}

}  // namespace

ferry_code ferry_fleet_grant_scopes(ferry_db* db, const char* device, const char* const* read, const char* const* write,
                                    const char* const* relay, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(device, "the device");
    ferry::GrantInfo sets;
    sets.read = names_of(read);
    sets.write = names_of(write);
    sets.relay = names_of(relay);
    const ferry::GrantInfo g = e.grant(device, sets);
    if (json) *json = copy_out(ferry::render::grant(g).dump());
  });
}

ferry_code ferry_fleet_revoke(ferry_db* db, const char* device, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(device, "the device");
    const ferry::GrantInfo g = e.revoke(device);
    if (json) *json = copy_out(ferry::render::grant(g).dump());
  });
}

ferry_code ferry_fleet_admit(ferry_db* db, const char* history, char** json) {
  return guarded(db, [&](ferry::Engine& e) {
    require(history, "the history");
    fleet_out(e.admit(history), json);
  });
}
