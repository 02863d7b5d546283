// The C API's ferry_sync (include/ferry/ferry.h; include/ferry/sync.h).
#include "capi/capi.h"
#include "ferry/json.h"
#include "ferry/sync.h"

using namespace ferry::capi;

ferry_code ferry_sync(ferry_db* db, const char* folder, uint64_t max_size, char** json) {
  if (json) *json = nullptr;
  return guarded(db, [&](ferry::Engine& e) {
    require(folder, "the folder");
    ferry::SyncOptions options;
    if (max_size != 0) options.max_size = max_size;
    const ferry::SyncReport r = ferry::sync_folder(e, folder, options);
    if (json) *json = copy_out(ferry::render::sync_report(r).dump());
    if (const ferry::SyncFile* refused = r.first_refusal()) throw ferry::Error(*refused->error, refused->detail);
  });
}
