#include "failing_alloc.h"

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::int64_t> countdown{0};  // > 0: allocations until the one that fails.
std::atomic<bool> persistent{false};
std::atomic<bool> failing{false};        // The armed failure happened (and, if persistent, goes on).
std::atomic<std::int64_t> allocations{0};

bool fail_now() {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (failing.load(std::memory_order_relaxed) && persistent.load(std::memory_order_relaxed)) return true;
  if (countdown.load(std::memory_order_relaxed) <= 0) return false;
  if (countdown.fetch_sub(1) != 1) return false;
  failing = true;
  return true;
}

void* allocate(std::size_t n) { return fail_now() ? nullptr : std::malloc(n ? n : 1); }

void* allocate_aligned(std::size_t n, std::align_val_t a) {
  if (fail_now()) return nullptr;
  const auto align = static_cast<std::size_t>(a);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}

sqlite3_mem_methods sqlite_default;
void* sqlite_malloc(int n) { return fail_now() ? nullptr : sqlite_default.xMalloc(n); }
void* sqlite_realloc(void* p, int n) { return fail_now() ? nullptr : sqlite_default.xRealloc(p, n); }

void* ssl_malloc(std::size_t n, const char*, int) { return allocate(n); }
void* ssl_realloc(void* p, std::size_t n, const char*, int) { return fail_now() ? nullptr : std::realloc(p, n); }
void ssl_free(void* p, const char*, int) { std::free(p); }

}  // namespace

void* operator new(std::size_t n) {
  if (void* p = allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = allocate_aligned(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace test::oom {

void install() {
  sqlite3_mem_methods methods;
  if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_default) != SQLITE_OK) std::abort();
  methods = sqlite_default;
  methods.xMalloc = sqlite_malloc;
  methods.xRealloc = sqlite_realloc;
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK ||
      CRYPTO_set_mem_functions(ssl_malloc, ssl_realloc, ssl_free) != 1) {
    std::fprintf(stderr, "failing_alloc: install() ran after SQLite or OpenSSL had started\n");
    std::abort();
  }
}

void arm(std::int64_t k, bool persist) {
  failing = false;
  persistent = persist;
  countdown = k;
}

bool disarm() {
  countdown = 0;
  return failing.exchange(false);
}

std::int64_t counted() { return allocations.load(); }
void reset_count() { allocations = 0; }

}  // namespace test::oom
