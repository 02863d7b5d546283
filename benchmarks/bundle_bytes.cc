#include "bundle_bytes.h"

#include <sqlite3.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <msgpack.hpp>

namespace bench {
namespace {

[[noreturn]] void fail(const std::string& path, const char* what) {
  std::fprintf(stderr, "ferry_bench: %s: %s\n", path.c_str(), what);
  std::exit(1);
}

int single_int(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  int v = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

// Calls `visit` with each operation's stored bytes: a 3.0 row of ferry_ops or
// the body inside a 4.0 stored form [nil, bin] (format 1), with `stored2`
// null; or a format 2 stored form, whole, with `stored2` its decoded array.
using StoredVisitor = std::function<void(std::string_view bytes, const msgpack::object* stored2)>;
void each_stored(const std::string& path, sqlite3* db, const StoredVisitor& visit) {
  const bool four = single_int(db, "SELECT format_major >= 4 FROM ferry_bundle") != 0;
  sqlite3_stmt* st = nullptr;
  const char* sql = four ? "SELECT data, raw_size, count FROM ferry_segments" : "SELECT body FROM ferry_ops";
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) fail(path, sqlite3_errmsg(db));
  std::string raw;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(st, 0));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(st, 0));
    if (!four) {
      visit(std::string_view(data, size), nullptr);
      continue;
    }
    raw.resize(static_cast<std::size_t>(sqlite3_column_int64(st, 1)));
    if (ZSTD_decompress(raw.data(), raw.size(), data, size) != raw.size()) fail(path, "a segment does not decompress");
    std::size_t offset = 0;
    for (int i = sqlite3_column_int(st, 2); i > 0; --i) {
      const std::size_t start = offset;
      const msgpack::object_handle h = msgpack::unpack(raw.data(), raw.size(), offset);
      const msgpack::object& stored = h.get();
      if (stored.type == msgpack::type::ARRAY && stored.via.array.size == 2 && stored.via.array.ptr[1].type == msgpack::type::BIN)
        visit(std::string_view(stored.via.array.ptr[1].via.bin.ptr, stored.via.array.ptr[1].via.bin.size), nullptr);
      else if (stored.type == msgpack::type::ARRAY && stored.via.array.size == 7)
        visit(std::string_view(raw.data() + start, offset - start), &stored);
      else
        fail(path, "holds a stored form that is neither [nil, bin] nor array(7)");
    }
  }
  sqlite3_finalize(st);
}

}  // namespace

const char* const kFieldNames[kFields] = {"format", "id",   "origin", "seq",     "lamport",   "clock",
                                          "table",  "key",  "kind",   "columns", "prev_hash", "rest"};

double measure_bundle_fields(const std::string& path, double* bytes) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) fail(path, sqlite3_errmsg(db));
  // A delta bundle of format 3 or 4 stores bodies without their link
  // (prev_hash): a placeholder link makes each parse, and is not counted.
  const bool unlinked = single_int(db, "SELECT format_major >= 3 AND kind = 'delta' FROM ferry_bundle") != 0;
  const std::string link = std::string("\xc4\x20", 2) + std::string(32, '\0');
  double operations = 0;
  std::string body;
  // Where each field of a format 2 stored form counts: its Lamport and time
  // steps stand for lamport and id, its deps for the clock.
  const int stored2_field[7] = {4, 1, 5, 6, 7, 8, 9};
  each_stored(path, db, [&](std::string_view stored, const msgpack::object* stored2) {
    if (stored2 != nullptr) {
      double fields = 0;
      for (std::uint32_t i = 0; i < 7; ++i) {
        msgpack::sbuffer one;
        msgpack::pack(one, stored2->via.array.ptr[i]);
        bytes[stored2_field[i]] += static_cast<double>(one.size());
        fields += static_cast<double>(one.size());
      }
      bytes[kFields - 1] += static_cast<double>(stored.size()) - fields;
      ++operations;
      return;
    }
    body.assign(stored.data(), stored.size());
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
    bytes[kFields - 1] += static_cast<double>(stored.size()) - fields;
    ++operations;
  });
  sqlite3_close(db);
  return operations;
}

}  // namespace bench
