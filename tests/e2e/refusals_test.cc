// What the tool refuses to do to a person's files, and how it says so: never
// replace the database, its journal or its key with an output; never hang on, or
// misread, a file that is not what its name suggests.
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "e2e/cli.h"

using test::Cli;
using test::prepared;

TEST_CASE("-o never replaces the database, its journal files or its key, nor anything but a regular file",
          "[e2e][outputs]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'keep', 'me')");
  REQUIRE(ferry("status a.db").status == 0);  // Seals the row, so a -wal file may exist beside the database.
  REQUIRE(::symlink("a.db", ferry.dir.file("link.ferry").c_str()) == 0);
  REQUIRE(::link(ferry.dir.file("a.db").c_str(), ferry.dir.file("hard.ferry").c_str()) == 0);
  REQUIRE(::mkfifo(ferry.dir.file("fifo.ferry").c_str(), 0600) == 0);
  const auto key_before = test::read_file(ferry.dir.file("a.db.key"));
  const auto log = ferry("log a.db --json");
  REQUIRE(log.status == 0);
  const std::string id = nlohmann::json::parse(log.out).at(0).at("id");
  for (const std::string out : {"a.db", "./a.db", "a.db-wal", "a.db-shm", "a.db-journal", "a.db.key", "link.ferry",
                                "hard.ferry", "fifo.ferry", "/dev/null"}) {
    for (const std::string& command : {"export a.db --all -o " + out, "fingerprint a.db -o " + out,
                                      "as-of a.db notes --at 2099-01-01T00:00:00Z -o " + out, "prove a.db " + id + " -o " + out}) {
      INFO(command);
      const auto r = ferry(command);
      CHECK(r.status == 2);
      CHECK_THAT(r.out, Catch::Contains(out) && Catch::Contains("Nothing was written"));
    }
  }
  const auto named = ferry("export a.db --all -o a.db.key");
  CHECK_THAT(named.out, Catch::Contains("this device's private key"));
  CHECK(test::read_file(ferry.dir.file("a.db.key")) == key_before);
  struct stat st;
  CHECK(::lstat(ferry.dir.file("link.ferry").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(::stat(ferry.dir.file("fifo.ferry").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(test::count(ferry.dir.file("a.db"), "SELECT count(*) FROM notes") == 1);
  CHECK(ferry("verify a.db").status == 0);
  // An ordinary new file, and one already there from an earlier export, are written.
  CHECK(ferry("export a.db --all -o out.ferry").status == 0);
  CHECK(ferry("export a.db --all -o out.ferry").status == 0);
}
