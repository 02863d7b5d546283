#include "support/vfs_shim.h"

namespace test::shim {
namespace {

int x_close(sqlite3_file* f) {
  const int rc = methods(f)->xClose(real(f));
  delete as_file(f)->watched;
  as_file(f)->watched = nullptr;
  return rc;
}
int x_read(sqlite3_file* f, void* d, int n, sqlite3_int64 o) { return methods(f)->xRead(real(f), d, n, o); }
int x_write(sqlite3_file* f, const void* d, int n, sqlite3_int64 o) { return methods(f)->xWrite(real(f), d, n, o); }
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
int x_no_fetch(sqlite3_file*, sqlite3_int64, int, void** p) {
  *p = nullptr;
  return SQLITE_OK;
}
int x_no_unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

}  // namespace

sqlite3_io_methods methods_with(const Replaced& r) {
  return {3,
          x_close,
          x_read,
          r.write ? r.write : x_write,
          r.truncate ? r.truncate : x_truncate,
          r.sync ? r.sync : x_sync,
          x_file_size,
          x_lock,
          x_unlock,
          x_check,
          x_control,
          x_sector,
          x_device,
          x_shm_map,
          x_shm_lock,
          x_shm_barrier,
          x_shm_unmap,
          r.no_mmap ? x_no_fetch : x_fetch,
          r.no_mmap ? x_no_unfetch : x_unfetch};
}

int open_shim(sqlite3_vfs* real_vfs, const sqlite3_io_methods* io, sqlite3_filename name, sqlite3_file* f, int flags,
              int* out_flags, bool (*watch)(const char* name)) {
  File* file = as_file(f);
  file->base.pMethods = nullptr;
  file->watched = nullptr;
  const int rc = real_vfs->xOpen(real_vfs, name, file->real(), flags, out_flags);
  if (file->real()->pMethods == nullptr) return rc;
  file->base.pMethods = io;
  if (name != nullptr && watch(name)) file->watched = new std::string(name);
  return rc;
}

sqlite3_vfs shim_of(sqlite3_vfs* real_vfs, const char* name,
                    int (*x_open)(sqlite3_vfs*, sqlite3_filename, sqlite3_file*, int, int*)) {
  sqlite3_vfs vfs = *real_vfs;
  vfs.szOsFile = static_cast<int>(sizeof(File)) + real_vfs->szOsFile;
  vfs.zName = name;
  vfs.pNext = nullptr;
  vfs.xOpen = x_open;
  return vfs;
}

}  // namespace test::shim
