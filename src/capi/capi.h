#pragma once
// What every file of the C API shares: the handle, and the one way each
// function runs its body (no exception crosses into C; the message of a
// failure stays on the handle).
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>

#include "ferry/engine.h"
#include "ferry/ferry.h"

struct ferry_db {
  std::optional<ferry::Engine> engine;
  std::string error;
  std::string device_id;
  std::string discarded_why;  // The last import's ferry_import_summary::discarded_why.
};

namespace ferry::capi {

inline ferry_code code_of(ferry::Errc e) {
  switch (e) {
    case ferry::Errc::invalid_argument: return FERRY_INVALID_ARGUMENT;
    case ferry::Errc::not_found: return FERRY_NOT_FOUND;
    case ferry::Errc::corrupt: return FERRY_CORRUPT;
    case ferry::Errc::refused: return FERRY_REFUSED;
    case ferry::Errc::untrusted: return FERRY_UNTRUSTED;
    case ferry::Errc::database: return FERRY_DATABASE;
    case ferry::Errc::internal: return FERRY_INTERNAL;
  }
  return FERRY_INTERNAL;
}

// Runs `body` on `db`'s engine; every failure becomes a code and a message on the handle.
template <typename F>
ferry_code guarded(ferry_db* db, F&& body) {
  if (db == nullptr) return FERRY_INVALID_ARGUMENT;
  if (!db->engine) {  // Its opening failed; keep saying why.
    if (db->error.empty()) db->error = "this handle holds no open database";
    return FERRY_INVALID_ARGUMENT;
  }
  db->error.clear();
  try {
    body(*db->engine);
    return FERRY_OK;
  } catch (const ferry::Error& e) {
    db->error = e.what();
    return code_of(e.code());
  } catch (const std::bad_alloc&) {
    db->error = "out of memory";
  } catch (const std::exception& e) {
    db->error = std::string("internal error (please report it): ") + e.what();
  }
  return FERRY_INTERNAL;
}

inline void require(const void* p, const char* what) {
  if (p == nullptr) throw ferry::Error(ferry::Errc::invalid_argument, std::string(what) + " must not be NULL");
}

inline char* copy_out(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

}  // namespace ferry::capi
