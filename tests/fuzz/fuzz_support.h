#pragma once
// Small helpers shared by the fuzz harnesses.
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ferry::fuzz {

// A fresh directory for this fuzzing process (under $TMPDIR or /tmp),
// removed with what it holds when the process exits normally (libFuzzer's
// -max_total_time and -runs end in exit()); a crash leaves it, with the input.
inline std::string make_work_dir(const char* name) {
  static std::string made;
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  made = tmpl;
  std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(made, ignored);
  });
  return tmpl;
}

inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
}

inline void sqlite_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  char* error = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK || sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), error ? error : sqlite3_errmsg(db));
    std::exit(1);
  }
  sqlite3_close(db);
}

}  // namespace ferry::fuzz
