// A stick pulled while `ferry sync` runs (ferry/sync.h): b's run is killed
// before each of its writes in turn -- every write, rename, unlink, fsync and
// truncation of its database, its journal, its bundles and the folder -- on
// fresh copies of its database and of the folder. Each time the database
// verifies, every file under a bundle's name reads whole, and the next run
// finishes the work: b holds what a and c left, and its bundles bring b's own
// change to them. Where the machine refuses ptrace, the kill points are spread
// in time over the run instead (and the test says so).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "ferry/sync.h"
#include "support/support.h"
#include "support/write_points.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, note TEXT)";

// The world before b's run: a, b and c know each other; a and c each left b a
// bundle with a new row in `stick`, and b holds a new row of its own.
struct BeforeBsRun {
  test::TempDir dir{/*prefer_memory=*/true}, stick{/*prefer_memory=*/true};  // A kill loses no written page: no fsync needed.
  test::Replica a{dir, "a", kSchema}, b{dir, "b", kSchema}, c{dir, "c", kSchema};

  BeforeBsRun() {
    for (int round = 0; round < 2; ++round)  // Introductions, then bundles for each peer.
      for (test::Replica* r : {&a, &b, &c}) REQUIRE_FALSE(sync_folder(r->engine, stick.path()).first_error);
    for (test::Replica* r : {&a, &b, &c}) REQUIRE_FALSE(sync_folder(r->engine, stick.path()).first_error);
    a.sql("INSERT INTO items VALUES(1, 'a')");
    c.sql("INSERT INTO items VALUES(3, 'c')");
    b.sql("INSERT INTO items VALUES(2, 'b')");
    REQUIRE_FALSE(sync_folder(a.engine, stick.path()).first_error);
    REQUIRE_FALSE(sync_folder(c.engine, stick.path()).first_error);
  }
};

std::vector<std::string> files_in(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(folder)) out.push_back(e.path().filename().string());
  return out;
}

// A copy of `world` for one kill point: b's database and the stick, fresh.
struct Trial {
  test::TempDir stick{/*prefer_memory=*/true};
  std::string b_path;

  Trial(const BeforeBsRun& world, int point) : b_path(world.dir.file("b-" + std::to_string(point) + ".db")) {
    for (const std::string& name : files_in(world.stick.path()))
      std::filesystem::copy_file(world.stick.file(name), stick.file(name));
    (void)test::copy_device(world.b, b_path);
  }

  // b's run, for the child to do.
  std::function<void()> run() const {
    return [this] {
      Engine e = Engine::open(b_path);
      (void)sync_folder(e, stick.path());
    };
  }

  // What the killed run left is whole, and the next run finishes its work.
  void check_whole_and_finished(const BeforeBsRun& world) const {
    Engine b = Engine::open(b_path);
    CHECK(b.verify().ok);
    for (const std::string& name : files_in(stick.path()))
      if (name[0] != '.') CHECK_NOTHROW(inspect_bundle(stick.file(name)));
    const SyncReport again = sync_folder(b, stick.path());
    CHECK_FALSE(again.first_error);
    CHECK(test::count(b_path, "SELECT count(*) FROM items") == 3);
    for (const std::string& name : files_in(stick.path())) CHECK(name[0] != '.');  // No temporary file left.
    // What b left on the stick brings its row to a (on a copy of a, the world stays as it was).
    const std::string a_path = b_path + "-a.db";
    Engine a = test::copy_device(world.a, a_path);
    CHECK_FALSE(sync_folder(a, stick.path()).first_error);
    CHECK(test::count(a_path, "SELECT count(*) FROM items WHERE id = 2") == 1);
  }
};

// Runs `work` in a child and kills it after `delay`; true when it finished first.
bool finished_within(const std::function<void()>& work, std::chrono::microseconds delay) {
  const pid_t pid = test::in_child(work);
  ::usleep(static_cast<useconds_t>(delay.count()));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST_CASE("sync killed at any moment leaves the database whole and no half-written bundle, and the next run finishes",
          "[sync][crash]") {
  BeforeBsRun world;
  if (test::traceable()) {
    int point = 1;
    for (;; ++point) {
      INFO("killed before write point " << point);
      Trial trial(world, point);
      const test::WritePointRun run = test::kill_before_write(trial.run(), point);
      if (!run.killed) {
        REQUIRE(run.finished);
        break;
      }
      trial.check_whole_and_finished(world);
    }
    INFO("b's run has " << point - 1 << " write points");
    CHECK(point > 20);  // Imports, a bundle for each peer, deletions: the loop did reach them.
  } else {
    WARN("this machine refuses ptrace: sync is killed at 24 moments spread over its run instead of at each write");
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(finished_within(Trial(world, 0).run(), std::chrono::seconds(60)));
    const auto whole = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    for (int point = 1; point <= 24; ++point) {
      INFO("killed after " << point << "/24 of its run");
      Trial trial(world, point);
      (void)finished_within(trial.run(), whole * point / 24);
      trial.check_whole_and_finished(world);
    }
  }
}
