// Out of memory (RELIABILITY ST-06): an import or an export whose allocations
// start failing at the k-th -- in ferry's own code, in SQLite or in OpenSSL;
// that one only, or from then on -- ends in success or in an exception
// (ferry::Error, or std::bad_alloc from the C++ API), never in a crash, and
// leaves nothing half done: the database passes integrity_check and verify,
// holds all of the work or none of it, and the same call succeeds once memory
// is back. k runs from 1 until the call no longer reaches the k-th allocation;
// FERRY_OOM_FROM=k starts there instead, to replay a failure (the message
// names k and whether the failure was persistent).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <new>

#include "failing_alloc.h"
#include "support/support.h"
#include "trust/keys.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB)";
constexpr int kRows = 20;

// A database ferry prepared, with its key file: copied afresh for every attempt.
struct Device {
  std::string db, key;
  void copy_to(const std::string& path) const {
    test::write_file(path, test::read_file(db));
    test::write_file(trust::key_path(path), test::read_file(key));
    std::filesystem::permissions(trust::key_path(path), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
  }
};

Device prepare(const test::TempDir& dir, const std::string& name, int rows) {
  Device d{dir.file(name + ".db"), ""};
  {
    test::Replica r(dir, name, kSchema);
    for (int i = 1; i <= rows; ++i)
      r.sql("INSERT INTO t VALUES(" + std::to_string(i) + ", 'row " + std::to_string(i) + "', " + std::to_string(i) +
            ".25, x'00ff')");
    if (rows > 0) r.sql("UPDATE t SET price = -0.0 WHERE id = 1; DELETE FROM t WHERE id = 2");
  }
  REQUIRE_FALSE(std::filesystem::exists(d.db + "-wal"));  // Closed: the whole database is in its file.
  REQUIRE(test::count(d.db, "SELECT count(*) FROM t") == std::max(rows - 1, 0));
  d.key = trust::key_path(d.db);
  return d;
}

// Runs `work` with the k-th allocation failing. Returns whether the failure happened.
template <typename F>
bool with_failure_at(std::int64_t k, bool persistent, F&& work) {
  test::oom::arm(k, persistent);
  try {
    work();
  } catch (const Error&) {
  } catch (const std::bad_alloc&) {
  }
  return test::oom::disarm();
}

// What a database holds: its rows, and how many operations its log has.
std::string holdings(const std::string& db) {
  return test::dump(db, "t") + "operations: " + std::to_string(test::count(db, "SELECT count(*) FROM ferry_log"));
}

void check_sound(const std::string& db) {
  CHECK(test::count(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'") == 0);
  CHECK(Engine::open(db).verify().ok);
}

// The next k: every allocation (an import or export of 20 rows makes about
// 6,700), or with FERRY_OOM_ALL_UP_TO=n every one up to n and then steps of
// a thirtieth of k, as the sanitizer build does (tools/test.sh): about 250
// points of each loop, where the unsanitized build fails every allocation.
std::int64_t next(std::int64_t k) {
  static const std::int64_t all_up_to = [] {
    const char* n = std::getenv("FERRY_OOM_ALL_UP_TO");
    return n && *n ? std::atoll(n) : std::numeric_limits<std::int64_t>::max();
  }();
  return k < all_up_to ? k + 1 : k + std::max<std::int64_t>(1, k / 30);
}
constexpr std::int64_t kGiveUp = 10'000'000;

// Every allocation of the first 150, then one in `stride` from the
// `offset`-th on, as the environment says: FERRY_OOM_EXPORT_STRIDE and
// _OFFSET for an export's loop (about 7,400 allocations, beyond RELIABILITY
// ST-06's T1, which is the import's), FERRY_OOM_IMPORT_STRIDE and _OFFSET for
// an import's. Without them, every one in turn (next()). tools/test.sh runs
// the export's one in 10 and the import's one in 2, from offsets that change
// every day, so that CI's 30 minutes hold them and ten days (two) of CI cover
// every allocation; a failure names its k, for FERRY_OOM_FROM.
struct Sampling {
  std::int64_t stride = 1, offset = 0;
  Sampling(const char* stride_variable, const char* offset_variable) {
    if (const char* v = std::getenv(stride_variable); v && *v) stride = std::max<std::int64_t>(1, std::atoll(v));
    if (const char* v = std::getenv(offset_variable); v && *v) offset = std::max<std::int64_t>(0, std::atoll(v)) % stride;
  }
  std::int64_t next_after(std::int64_t k) const {
    if (stride == 1 || k < 150) return next(k);
    if (k == 150) return 150 + 1 + offset;
    return k + stride;
  }
};

std::int64_t first_k() {
  const char* from = std::getenv("FERRY_OOM_FROM");
  return from && *from ? std::max<std::int64_t>(1, std::atoll(from)) : 1;
}

// Each mode is a test case of its own, so that CTest runs the four loops on
// as many cores as it has (each is minutes long without the sanitizers).
void import_under_failures(bool persistent) {
  INFO((persistent ? "every allocation from the k-th on fails" : "the k-th allocation fails"));
  test::TempDir dir(true);
  const Device sender = prepare(dir, "sender", kRows), receiver = prepare(dir, "receiver", 0);
  const std::string bundle = dir.file("rows.ferry");
  {
    auto engine = Engine::open(sender.db);
    ExportOptions all;
    all.all = true;
    (void)engine.export_bundle(bundle, all);
  }
  const std::string work = dir.file("work.db");
  receiver.copy_to(work);
  const std::string before = holdings(work);
  (void)Engine::open(work).import_bundle(bundle);
  const std::string after = holdings(work);
  REQUIRE(before != after);
  int failed = 0, applied = 0;
  std::int64_t k = first_k();
  static const Sampling sampled("FERRY_OOM_IMPORT_STRIDE", "FERRY_OOM_IMPORT_OFFSET");
  for (; k < kGiveUp; k = sampled.next_after(k)) {
    INFO("k = " << k);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(work + suffix);
    receiver.copy_to(work);
    bool hit;
    {
      auto engine = Engine::open(work);
      hit = with_failure_at(k, persistent, [&] { (void)engine.import_bundle(bundle); });
      const std::string now = holdings(work);  // What is committed, read beside the engine.
      CHECK((now == before || now == after));
      (now == after ? applied : failed) += 1;
      (void)engine.import_bundle(bundle);  // Again, on the same engine, with memory back: completes.
    }
    check_sound(work);
    CHECK(holdings(work) == after);
    if (!hit) break;
  }
  REQUIRE(k < kGiveUp);
  WARN((persistent ? "persistent" : "one-shot") << " allocation failures at " << failed + applied << " points of an import: "
                                               << failed << " left nothing, " << applied << " applied everything");
}

void export_under_failures(bool persistent) {
  INFO((persistent ? "every allocation from the k-th on fails" : "the k-th allocation fails"));
  test::TempDir dir(true);
  const Device sender = prepare(dir, "sender", kRows);  // Its changes are captured, not yet sealed.
  const Device blank = prepare(dir, "blank", 0);
  const std::string work = dir.file("work.db"), bundle = dir.file("out.ferry");
  int none = 0, whole = 0;
  std::int64_t k = first_k();
  static const Sampling sampled("FERRY_OOM_EXPORT_STRIDE", "FERRY_OOM_EXPORT_OFFSET");
  for (; k < kGiveUp; k = sampled.next_after(k)) {
    INFO("k = " << k);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(work + suffix);
    std::filesystem::remove(bundle);
    sender.copy_to(work);
    bool hit;
    ExportOptions all;
    all.all = true;
    {
      auto engine = Engine::open(work);
      hit = with_failure_at(k, persistent, [&] { (void)engine.export_bundle(bundle, all); });
      if (!std::filesystem::exists(bundle)) {
        ++none;
        (void)engine.export_bundle(bundle, all);  // Again, on the same engine, with memory back.
      } else {
        ++whole;
      }
    }
    check_sound(work);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      const bool temporary = entry.path().filename().string().rfind(".ferry-export-", 0) == 0;
      CHECK_FALSE(temporary);  // No temporary file is left behind...
      if (temporary) std::filesystem::remove(entry.path());  // ...and one that was counts once.
    }
    CHECK(verify_bundle(bundle).ok);
    // Whatever happened, every change was sealed once: a fresh device receives all of it.
    const std::string peer = dir.file("peer.db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(peer + suffix);
    blank.copy_to(peer);
    (void)Engine::open(peer).import_bundle(bundle);
    CHECK(test::dump(peer, "t") == test::dump(work, "t"));
    if (!hit) break;
  }
  REQUIRE(k < kGiveUp);
  WARN((persistent ? "persistent" : "one-shot") << " allocation failures at " << none + whole << " points of an export: "
                                               << none << " left no bundle, " << whole << " a whole one");
}

}  // namespace

TEST_CASE("an import whose memory runs out at any allocation is all or nothing, and completes when run again",
          "[fault][oom][import]") {
  import_under_failures(false);
}

TEST_CASE("an import whose memory runs out from any allocation on is all or nothing, and completes when run again",
          "[fault][oom][import]") {
  import_under_failures(true);
}

TEST_CASE("an export whose memory runs out at any allocation leaves a whole bundle or none, and its seal whole",
          "[fault][oom][export]") {
  export_under_failures(false);
}

TEST_CASE("an export whose memory runs out from any allocation on leaves a whole bundle or none, and its seal whole",
          "[fault][oom][export]") {
  export_under_failures(true);
}

// The hooks go in before main(), so the program can use Catch's prebuilt
// main rather than compile Catch's whole implementation here; the priority
// puts this before the constructors of other files, none of which may
// allocate through SQLite or OpenSSL first (install() aborts if one did).
__attribute__((constructor(101))) static void install_failing_allocators() { test::oom::install(); }
