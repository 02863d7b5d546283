#include "support/faulty_vfs.h"

#include <cstring>
#include <stdexcept>

namespace test {
namespace {

struct State {
  sqlite3_vfs* real = nullptr;
  std::string match;
  std::int64_t budget = 0;
  int error = SQLITE_FULL;
  int refused = 0;
};
State g_state;
sqlite3_vfs g_vfs;

struct File {
  sqlite3_file base;
  bool watched;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

File* as_file(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
sqlite3_file* real(sqlite3_file* f) { return as_file(f)->real(); }
const sqlite3_io_methods* methods(sqlite3_file* f) { return real(f)->pMethods; }

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

int x_close(sqlite3_file* f) { return methods(f)->xClose(real(f)); }
int x_read(sqlite3_file* f, void* d, int n, sqlite3_int64 o) { return methods(f)->xRead(real(f), d, n, o); }
int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return methods(f)->xTruncate(real(f), size); }
int x_sync(sqlite3_file* f, int flags) { return methods(f)->xSync(real(f), flags); }
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return methods(f)->xFileSize(real(f), size); }
int x_lock(sqlite3_file* f, int l) { return methods(f)->xLock(real(f), l); }
int x_unlock(sqlite3_file* f, int l) { return methods(f)->xUnlock(real(f), l); }
int x_check(sqlite3_file* f, int* out) { return methods(f)->xCheckReservedLock(real(f), out); }
int x_control(sqlite3_file* f, int op, void* arg) { return methods(f)->xFileControl(real(f), op, arg); }
int x_sector(sqlite3_file* f) { return methods(f)->xSectorSize(real(f)); }
int x_device(sqlite3_file* f) { return methods(f)->xDeviceCharacteristics(real(f)); }
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return methods(f)->xShmMap(real(f), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) { return methods(f)->xShmLock(real(f), offset, n, flags); }
void x_shm_barrier(sqlite3_file* f) { methods(f)->xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return methods(f)->xShmUnmap(real(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 o, int n, void** p) { return methods(f)->xFetch(real(f), o, n, p); }
int x_unfetch(sqlite3_file* f, sqlite3_int64 o, void* p) { return methods(f)->xUnfetch(real(f), o, p); }

const sqlite3_io_methods kMethods = {3,        x_close,   x_read,    x_write,      x_truncate,    x_sync,
                                     x_file_size, x_lock, x_unlock,  x_check,      x_control,     x_sector,
                                     x_device, x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap, x_fetch,
                                     x_unfetch};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  File* file = as_file(f);
  file->base.pMethods = nullptr;
  file->watched = name != nullptr && std::strstr(name, g_state.match.c_str()) != nullptr;
  const int rc = g_state.real->xOpen(g_state.real, name, file->real(), flags, out_flags);
  if (file->real()->pMethods != nullptr) file->base.pMethods = &kMethods;
  return rc;
}

}  // namespace

FaultyDisk::FaultyDisk(std::string match, std::int64_t budget, int error) {
  g_state = State{sqlite3_vfs_find(nullptr), std::move(match), budget, error, 0};
  g_vfs = *g_state.real;
  g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_state.real->szOsFile;
  g_vfs.zName = "ferry-test-faulty";
  g_vfs.pNext = nullptr;
  g_vfs.xOpen = x_open;
  if (sqlite3_vfs_register(&g_vfs, 1) != SQLITE_OK) throw std::runtime_error("cannot register the faulty VFS");
}

FaultyDisk::~FaultyDisk() {
  sqlite3_vfs_register(g_state.real, 1);
  sqlite3_vfs_unregister(&g_vfs);
}

int FaultyDisk::refused() const { return g_state.refused; }

}  // namespace test
