// The extension's fleet functions (bundle_format/README.md §17), on the
// calling connection as `ferry fleet DB ...` does it:
//
//   SELECT ferry_fleet()                          -> JSON: the administrator and every grant
//   SELECT ferry_fleet_init()                     -> the same: this device administers a new fleet
//   SELECT ferry_fleet_join(admin, key [, name])  -> the same: `admin`'s grants are accepted here
//   SELECT ferry_fleet_grant(device, write_shared) -> JSON: the grant written (administrator only);
//          instead of write_shared, '{"read": [...], "write": [...], "relay": [...]}' grants scopes
//   SELECT ferry_fleet_revoke(device)             -> JSON: the grant of nothing written
//   SELECT ferry_fleet_admit(history)             -> JSON: the fleet, its starting history grown
#include "extension/calls.h"

namespace ferry::extension {
namespace {

void fn_fleet(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] { result_json(ctx, render::fleet(on_caller(ctx).fleet())); });
}

void fn_fleet_init(sqlite3_context* ctx, int, sqlite3_value**) {
  call(ctx, [&] { result_json(ctx, render::fleet(on_caller(ctx).fleet_init())); });
}

void fn_fleet_join(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  call(ctx, [&] {
    const std::string admin = text_arg(argv[0], "the administrator"), key = text_arg(argv[1], "the key");
    const std::string name = argc > 2 && sqlite3_value_type(argv[2]) != SQLITE_NULL ? text_arg(argv[2], "the name") : "";
    result_json(ctx, render::fleet(on_caller(ctx).fleet_join(admin, key, name)));
  });
}

// A grant's scope lists as JSON, '{"read": [...], "write": [...], "relay": [...]}'
// (each may be left out): Error(invalid_argument) naming what is wrong.
GrantInfo grant_sets(const std::string& text) {
  const auto doc = render::json::parse(text, nullptr, false);
  if (!doc.is_object())
    throw Error(Errc::invalid_argument, "a grant is 0 or 1 (may it change the shared tables) or a JSON object "
                                        "{\"read\": [scopes], \"write\": [scopes], \"relay\": [scopes]}, not '" +
                                            printable(text) + "'");
  GrantInfo sets;
  for (const auto& [key, value] : doc.items()) {
    std::vector<std::string>* list = key == "read" ? &sets.read : key == "write" ? &sets.write
                                     : key == "relay" ? &sets.relay : nullptr;
    if (list == nullptr) throw Error(Errc::invalid_argument, "a grant has no list '" + printable(key) + "' (read, write, relay)");
    if (!value.is_array()) throw Error(Errc::invalid_argument, "the grant's '" + key + "' is not a list of scope names");
    for (const auto& name : value) {
      if (!name.is_string()) throw Error(Errc::invalid_argument, "the grant's '" + key + "' holds something other than names");
      list->push_back(name.get<std::string>());
    }
  }
  return sets;
}

void fn_fleet_grant(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] {
    GrantInfo sets;
    if (sqlite3_value_type(argv[1]) == SQLITE_TEXT)
      sets = grant_sets(text_arg(argv[1], "the grant"));
    else if (sqlite3_value_int(argv[1]) != 0)
      sets.write.push_back("");
    result_json(ctx, render::grant(on_caller(ctx).grant(text_arg(argv[0], "the device"), sets)));
  });
}

void fn_fleet_revoke(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] { result_json(ctx, render::grant(on_caller(ctx).revoke(text_arg(argv[0], "the device")))); });
}

void fn_fleet_admit(sqlite3_context* ctx, int, sqlite3_value** argv) {
  call(ctx, [&] { result_json(ctx, render::fleet(on_caller(ctx).admit(text_arg(argv[0], "the history")))); });
}

}  // namespace

const Function kFleetFunctions[] = {
    {"ferry_fleet", 0, fn_fleet},           {"ferry_fleet_init", 0, fn_fleet_init},
    {"ferry_fleet_join", 2, fn_fleet_join}, {"ferry_fleet_join", 3, fn_fleet_join},
    {"ferry_fleet_grant", 2, fn_fleet_grant}, {"ferry_fleet_revoke", 1, fn_fleet_revoke},
    {"ferry_fleet_admit", 1, fn_fleet_admit},
};
const std::size_t kFleetFunctionCount = sizeof kFleetFunctions / sizeof kFleetFunctions[0];

}  // namespace ferry::extension
