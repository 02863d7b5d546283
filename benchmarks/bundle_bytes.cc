#include "bundle_bytes.h"

#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <msgpack.hpp>

namespace bench {

const char* const kFieldNames[kFields] = {"format", "id",   "origin", "seq",     "lamport",   "clock",
                                          "table",  "key",  "kind",   "columns", "prev_hash", "rest"};

double measure_bundle_fields(const std::string& path, double* bytes) {
  sqlite3* db = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT body FROM ferry_ops", -1, &st, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "ferry_bench: %s: %s\n", path.c_str(), sqlite3_errmsg(db));
    std::exit(1);
  }
  // A delta bundle of format 3 stores bodies without their link (prev_hash): a
  // placeholder link makes each parse, and is not counted.
  sqlite3_stmt* kind = nullptr;
  bool unlinked = false;
  if (sqlite3_prepare_v2(db, "SELECT format_major >= 3 AND kind = 'delta' FROM ferry_bundle", -1, &kind, nullptr) == SQLITE_OK &&
      sqlite3_step(kind) == SQLITE_ROW)
    unlinked = sqlite3_column_int(kind, 0) != 0;
  sqlite3_finalize(kind);
  const std::string link = std::string("\xc4\x20", 2) + std::string(32, '\0');
  double operations = 0;
  std::string body;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(st, 0));
    body.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)), size);
    if (unlinked) body += link;
    const msgpack::object_handle h = msgpack::unpack(body.data(), body.size());
    const msgpack::object& op = h.get();
    double fields = 0;
    for (std::uint32_t i = 0; i < op.via.array.size && i + 1 < kFields; ++i) {
      if (unlinked && i + 2 == kFields) continue;  // The placeholder link.
      msgpack::sbuffer one;
      msgpack::pack(one, op.via.array.ptr[i]);
      bytes[i] += static_cast<double>(one.size());
      fields += static_cast<double>(one.size());
    }
    bytes[kFields - 1] += static_cast<double>(size) - fields;
    ++operations;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return operations;
}

}  // namespace bench
