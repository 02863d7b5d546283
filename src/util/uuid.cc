#include "util/uuid.h"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>

#include "ferry/error.h"

namespace ferry::util {

namespace {

// Random bytes from OpenSSL's CSPRNG (seeded from the operating system), drawn
// 4 KiB at a time: sealing makes one id per operation, and one system call
// per id (Boost's random_generator reads the OS for every 16 bytes) was a
// measurable share of sealing. An entropy failure is an error, never a weaker
// fallback.
class RandomPool {
 public:
  void fill(std::uint8_t* out, std::size_t n) {
    if (used_ + n > sizeof pool_) refill();
    std::memcpy(out, pool_ + used_, n);
    std::memset(pool_ + used_, 0, n);  // Bytes handed out are not kept.
    used_ += n;
  }

 private:
  void refill() {
    if (RAND_bytes(pool_, static_cast<int>(sizeof pool_)) != 1)
      throw Error(Errc::internal, "cannot draw random bytes for an id: OpenSSL's random generator failed");
    used_ = 0;
  }
  std::uint8_t pool_[4096] = {};
  std::size_t used_ = sizeof pool_;
};

// Writes the time, version and variant over `id`, keeping its other 74 bits.
Uuid stamp_v7(Uuid id, std::int64_t unix_ms) {
  const auto ms = static_cast<std::uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i) id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  id.bytes[6] = static_cast<std::uint8_t>(0x70 | (id.bytes[6] & 0x0f));  // Version 7.
  id.bytes[8] = static_cast<std::uint8_t>(0x80 | (id.bytes[8] & 0x3f));  // RFC 4122 variant.
  return id;
}

}  // namespace

Uuid make_uuid_v7(std::int64_t unix_ms) {
  static thread_local RandomPool pool;
  Uuid id;
  pool.fill(id.bytes.data(), 16);
  return stamp_v7(id, unix_ms);
}

Uuid make_operation_id(std::int64_t unix_ms, const Uuid& origin, std::uint64_t seq) {
  Uuid id = origin;
  for (std::size_t i = 0; i < 8; ++i) id.bytes[8 + i] ^= static_cast<std::uint8_t>(seq >> (56 - 8 * i));
  return stamp_v7(id, unix_ms);
}

namespace {
std::atomic<std::int64_t> g_skew_ms{0};
}  // namespace

std::int64_t now_ms() {
  using namespace std::chrono;
  const std::int64_t now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  std::int64_t skewed = 0;
  if (__builtin_add_overflow(now, g_skew_ms.load(std::memory_order_relaxed), &skewed))
    return g_skew_ms.load(std::memory_order_relaxed) > 0 ? std::numeric_limits<std::int64_t>::max()
                                                          : std::numeric_limits<std::int64_t>::min();
  return skewed;
}

void set_clock_skew(std::int64_t ms) { g_skew_ms.store(ms, std::memory_order_relaxed); }

}  // namespace ferry::util
