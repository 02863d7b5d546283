#include "support/power_cut.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/vfs_shim.h"

namespace test {
namespace {

using namespace shim;

// A write since the file's last sync, and what it wrote over.
struct Write {
  sqlite3_int64 offset;
  std::string data;
  std::string before;        // The bytes it replaced (zeros past the end).
  sqlite3_int64 size_before;  // The file's size before it.
};

struct State {
  sqlite3_vfs* real = nullptr;
  std::string prefix, image_dir;
  int at = 0, syncs = 0;
  bool cut = false;
  std::mt19937_64 rng;
  std::map<std::string, std::vector<Write>> pending;  // By path: every handle of a file shares it.
  int fates[3] = {0, 0, 0};
};
State g_state;
sqlite3_vfs g_vfs;

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void put(std::string& content, sqlite3_int64 offset, const std::string& bytes) {
  const auto end = static_cast<std::size_t>(offset) + bytes.size();
  if (content.size() < end) content.resize(end, '\0');
  std::memcpy(&content[static_cast<std::size_t>(offset)], bytes.data(), bytes.size());
}

// The disk as the power cut leaves it, into the image folder.
void write_image() {
  std::filesystem::create_directories(g_state.image_dir);
  const std::string folder = std::filesystem::path(g_state.prefix).parent_path().string();
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string path = entry.path().string();
    const std::string& p = g_state.prefix;
    if (path != p && path != p + "-wal" && path != p + "-journal") continue;  // Not -shm: it is rebuilt.
    std::string content = read_whole(path);
    const std::vector<Write>& writes = g_state.pending[path];
    for (auto w = writes.rbegin(); w != writes.rend(); ++w) {  // Back to the last sync,
      put(content, w->offset, w->before);
      content.resize(static_cast<std::size_t>(w->size_before));
    }
    for (const Write& w : writes) {  // then each write since: applied, dropped or garbage.
      const int fate = static_cast<int>(g_state.rng() % 3);
      ++g_state.fates[fate];
      if (fate == 0) put(content, w.offset, w.data);
      if (fate == 2) {
        std::string garbage(w.data.size(), '\0');
        for (char& c : garbage) c = static_cast<char>(g_state.rng());
        put(content, w.offset, garbage);
      }
    }
    std::ofstream out(g_state.image_dir + "/" + entry.path().filename().string(), std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
}

int x_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  if (std::string* path = as_file(f)->watched) {
    if (g_state.cut) return SQLITE_IOERR_WRITE;
    Write w{offset, std::string(static_cast<const char*>(data), static_cast<std::size_t>(amount)),
            std::string(static_cast<std::size_t>(amount), '\0'), 0};
    if (methods(f)->xFileSize(real(f), &w.size_before) != SQLITE_OK) return SQLITE_IOERR_WRITE;
    const int rc = methods(f)->xRead(real(f), &w.before[0], amount, offset);  // Zero-filled when short.
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    g_state.pending[*path].push_back(std::move(w));
  }
  return methods(f)->xWrite(real(f), data, amount, offset);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (std::string* path = as_file(f)->watched) {
    if (g_state.cut) return SQLITE_IOERR_TRUNCATE;
    std::vector<Write>& writes = g_state.pending[*path];  // Done at once: what lay past `size` is gone.
    writes.erase(std::remove_if(writes.begin(), writes.end(), [&](const Write& w) { return w.offset >= size; }),
                 writes.end());
    for (Write& w : writes) {
      const auto keep = static_cast<std::size_t>(std::max<sqlite3_int64>(0, size - w.offset));
      if (w.data.size() > keep) w.data.resize(keep), w.before.resize(keep);
      w.size_before = std::min(w.size_before, size);
    }
  }
  return methods(f)->xTruncate(real(f), size);
}

int x_sync(sqlite3_file* f, int flags) {
  if (std::string* path = as_file(f)->watched) {
    if (g_state.cut) return SQLITE_IOERR_FSYNC;
    if (++g_state.syncs == g_state.at) {
      --g_state.syncs;  // It did not happen.
      g_state.cut = true;
      write_image();
      return SQLITE_IOERR_FSYNC;
    }
    const int rc = methods(f)->xSync(real(f), flags);
    if (rc == SQLITE_OK) g_state.pending[*path].clear();
    return rc;
  }
  return methods(f)->xSync(real(f), flags);
}

Replaced replaced() {
  Replaced r;
  r.write = x_write;
  r.truncate = x_truncate;
  r.sync = x_sync;
  r.no_mmap = true;  // Every page read goes through xRead, past the writes recorded.
  return r;
}
const sqlite3_io_methods kMethods = methods_with(replaced());

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  return open_shim(g_state.real, &kMethods, name, f, flags, out_flags, [](const char* n) {
    return std::strncmp(n, g_state.prefix.c_str(), g_state.prefix.size()) == 0;
  });
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  if (name != nullptr) g_state.pending.erase(name);
  return g_state.real->xDelete(g_state.real, name, sync_dir);
}

}  // namespace

PowerCut::PowerCut(std::string prefix, int at, std::uint64_t seed, std::string image_dir) {
  g_state = State{};
  g_state.real = sqlite3_vfs_find(nullptr);
  g_state.prefix = std::move(prefix);
  g_state.image_dir = std::move(image_dir);
  g_state.at = at;
  g_state.rng.seed(seed);
  g_vfs = shim_of(g_state.real, "ferry-test-power-cut", x_open);
  g_vfs.xDelete = x_delete;
  if (sqlite3_vfs_register(&g_vfs, 1) != SQLITE_OK) throw std::runtime_error("cannot register the power-cut VFS");
}

PowerCut::~PowerCut() {
  sqlite3_vfs_register(g_state.real, 1);
  sqlite3_vfs_unregister(&g_vfs);
}

void PowerCut::cut_now() {
  if (g_state.cut) return;
  g_state.cut = true;
  write_image();
}

bool PowerCut::cut() const { return g_state.cut; }
int PowerCut::syncs() const { return g_state.syncs; }
int PowerCut::fates(int which) const { return g_state.fates[which]; }

}  // namespace test
