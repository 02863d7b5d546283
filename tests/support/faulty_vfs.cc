#include "support/faulty_vfs.h"

#include <cstring>
#include <stdexcept>

#include "support/vfs_shim.h"

namespace test {
namespace {

using namespace shim;

struct State {
  sqlite3_vfs* real = nullptr;
  std::string match;
  std::int64_t budget = 0;
  int error = SQLITE_FULL;
  int refused = 0;
};
State g_state;
sqlite3_vfs g_vfs;

int x_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  if (as_file(f)->watched) {
    if (g_state.budget < amount) {
      ++g_state.refused;
      return g_state.error;
    }
    g_state.budget -= amount;
  }
  return methods(f)->xWrite(real(f), data, amount, offset);
}

Replaced replaced() {
  Replaced r;
  r.write = x_write;
  return r;
}
const sqlite3_io_methods kMethods = methods_with(replaced());

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  return open_shim(g_state.real, &kMethods, name, f, flags, out_flags,
                   [](const char* n) { return std::strstr(n, g_state.match.c_str()) != nullptr; });
}

}  // namespace

FaultyDisk::FaultyDisk(std::string match, std::int64_t budget, int error) {
  g_state = State{sqlite3_vfs_find(nullptr), std::move(match), budget, error, 0};
  g_vfs = shim_of(g_state.real, "ferry-test-faulty", x_open);
  if (sqlite3_vfs_register(&g_vfs, 1) != SQLITE_OK) throw std::runtime_error("cannot register the faulty VFS");
}

FaultyDisk::~FaultyDisk() {
  sqlite3_vfs_register(g_state.real, 1);
  sqlite3_vfs_unregister(&g_vfs);
}

int FaultyDisk::refused() const { return g_state.refused; }

}  // namespace test
