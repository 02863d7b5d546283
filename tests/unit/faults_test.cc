// I/O faults: a disk that fills up or fails while ferry writes. Every fault
// gives a clear error, changes nothing, and leaves no partial bundle at the
// target path; once the disk is healthy again the same command succeeds. An
// export whose own seal cannot commit publishes nothing.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "support/faulty_vfs.h"
#include "support/support.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT)";

void write_rows(test::Replica& r) {
  r.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
        "INSERT INTO items SELECT i, 'item-' || i, i % 7, hex(randomblob(100)) FROM n; UPDATE items SET qty = qty + 1");
}

bool leftover_temp_files(const std::string& folder) {
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.path().filename().string().rfind(".ferry-export-", 0) == 0) return true;
  return false;
}

struct Fault {
  int error;
  const char* says;
};

}  // namespace

TEST_CASE("an export onto a full or failing disk says so and leaves no bundle behind", "[export][faults]") {
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema);
  write_rows(a);
  a.engine.seal();
  const std::string out_dir = dir.file("stick");
  std::filesystem::create_directory(out_dir);
  const std::string target = out_dir + "/a.ferry";
  const auto fault = GENERATE(Fault{SQLITE_FULL, "full"}, Fault{SQLITE_IOERR_WRITE, "I/O error"});
  const std::int64_t budget = GENERATE(0, 4096, 65536, 200000);
  INFO("error " << fault.error << ", failing after " << budget << " bytes");
  {
    test::FaultyDisk disk(".ferry-export-", budget, fault.error);
    try {
      (void)test::export_all(a, target);
      FAIL("the export succeeded on a failing disk");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(fault.says) && Catch::Contains(target));
    }
    CHECK(disk.refused() > 0);
  }
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK_FALSE(leftover_temp_files(out_dir));
  CHECK(a.engine.verify().ok);
  const auto summary = test::export_all(a, target);  // The disk is healthy again.
  CHECK(summary.operations == 4000);
  CHECK(verify_bundle(target).ok);
}

TEST_CASE("an export whose seal cannot be committed publishes no bundle, the changes wait for the next one",
          "[export][faults]") {
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema);
  write_rows(a);  // 4,000 changes captured, not sealed: the export seals them.
  const std::string out_dir = dir.file("stick");
  std::filesystem::create_directory(out_dir);
  const std::string target = out_dir + "/a.ferry";
  const auto fault = GENERATE(Fault{SQLITE_FULL, "full"}, Fault{SQLITE_IOERR_WRITE, "I/O error"});
  const std::int64_t budget = GENERATE(0, 65536, 400000);
  INFO("error " << fault.error << ", failing after " << budget << " bytes");
  {
    // The database's own files: the bundle is complete by the time the seal commits.
    test::FaultyDisk disk(a.path, budget, fault.error);
    try {
      ExportOptions all;
      all.all = true;
      (void)Engine::open(a.path).export_bundle(target, all);  // Connections choose their VFS when they open.
      FAIL("the export succeeded on a failing disk");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(fault.says));
    }
    CHECK(disk.refused() > 0);
  }
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK_FALSE(leftover_temp_files(out_dir));
  auto fresh = Engine::open(a.path);
  CHECK(fresh.status().operations == 4000);  // Sealed now, by status, for the first time.
  const auto summary = test::export_all(a, target);
  CHECK(summary.operations == 4000);
  CHECK(verify_bundle(target).ok);
}

TEST_CASE("an import onto a full or failing disk says so and changes nothing", "[import][faults]") {
  test::TempDir dir;
  test::Replica a(dir, "a", kSchema);
  write_rows(a);
  const std::string bundle = dir.file("a.ferry");
  test::export_all(a, bundle);
  test::Replica b(dir, "b", kSchema);
  b.sql("INSERT INTO items VALUES(99999, 'mine', 1, 'kept')");
  const std::string before = b.dump("items");
  const auto fault = GENERATE(Fault{SQLITE_FULL, "full"}, Fault{SQLITE_IOERR_WRITE, "I/O error"});
  const std::int64_t budget = GENERATE(0, 65536, 600000);
  INFO("error " << fault.error << ", failing after " << budget << " bytes");
  {
    // The database's own files: b.db and its write-ahead log.
    test::FaultyDisk disk(b.path, budget, fault.error);
    try {
      auto engine = Engine::open(b.path);  // Connections choose their VFS when they open.
      (void)engine.import_bundle(bundle);
      FAIL("the import succeeded on a failing disk");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(fault.says));
    }
    CHECK(disk.refused() > 0);
  }
  auto fresh = Engine::open(b.path);  // What a new process would find.
  CHECK(fresh.verify().ok);
  CHECK(test::dump(b.path, "items") == before);
  CHECK(fresh.status().operations == 1);  // Only b's own insert.
  const auto again = fresh.import_bundle(bundle);
  CHECK(again.applied == 4000);
}

TEST_CASE("what a killed import or export left behind is removed by the next one, a running one's is kept",
          "[faults][litter]") {
  test::TempDir dir;
  const std::string tmp = dir.file("tmp"), stick = dir.file("stick");
  std::filesystem::create_directories(tmp);
  std::filesystem::create_directories(stick);
  REQUIRE(::setenv("TMPDIR", tmp.c_str(), 1) == 0);
  test::Replica a(dir, "a", kSchema);
  test::Replica b(dir, "b", kSchema);
  write_rows(a);
  const std::string bundle = dir.file("a.ferry");
  test::export_all(a, bundle);
  // A process that has ended, as a kill leaves one: its pid no longer runs.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  const std::string d = std::to_string(dead), live = std::to_string(::getpid());
  for (const std::string& folder : {tmp + "/ferry-" + d + "-Ab12Cd", tmp + "/ferry-" + live + "-Ef34Gh"}) {
    std::filesystem::create_directories(folder);
    test::write_file(folder + "/bundle", {1, 2, 3});
  }
  for (const std::string& file : {stick + "/.ferry-export-" + d + "-Ij56Kl", stick + "/.ferry-envelope-" + d + "-Mn78Op",
                                   stick + "/.ferry-export-" + live + "-Qr90St"})
    test::write_file(file, {1, 2, 3});
  (void)b.engine.import_bundle(bundle);
  CHECK_FALSE(std::filesystem::exists(tmp + "/ferry-" + d + "-Ab12Cd"));
  CHECK(std::filesystem::exists(tmp + "/ferry-" + live + "-Ef34Gh"));  // This process runs: not litter.
  ExportOptions all;
  all.all = true;
  (void)b.engine.export_bundle(stick + "/b.ferry", all);
  CHECK_FALSE(std::filesystem::exists(stick + "/.ferry-export-" + d + "-Ij56Kl"));
  CHECK(std::filesystem::exists(stick + "/.ferry-export-" + live + "-Qr90St"));
  // The envelope's temporary file goes at the next encrypted export into the same folder.
  ExportOptions sealed;
  sealed.peer = "a";
  sealed.encrypt_for = "a";
  test::exchange(a, b, dir);
  (void)b.engine.export_bundle(stick + "/for-a.ferry", sealed);
  CHECK_FALSE(std::filesystem::exists(stick + "/.ferry-envelope-" + d + "-Mn78Op"));
  ::unsetenv("TMPDIR");
}
