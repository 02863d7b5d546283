// What the tool refuses to do to a person's files, and how it says so: never
// replace the database, its journal or its key with an output; never hang on, or
// misread, a file that is not what its name suggests.
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "e2e/cli.h"

using test::Cli;
using test::prepared;

TEST_CASE("export's -o never replaces the database, its journal files or its key, nor anything but a regular file",
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
  auto refused = [&](const std::string& command, const std::string& out) {
    INFO(command);
    const auto r = ferry(command);
    CHECK(r.status == 2);
    CHECK_THAT(r.out, Catch::Contains(out) && Catch::Contains("Nothing was written"));
  };
  // Every kind of target through export; the other verbs that write share the same check (Engine::check_output).
  for (const std::string out : {"a.db", "./a.db", "a.db-wal", "a.db-shm", "a.db-journal", "a.db.key", "link.ferry",
                                "hard.ferry", "fifo.ferry", "/dev/null"})
    refused("export a.db --all -o " + out, out);
  for (const std::string out : {"a.db", "a.db.key", "fifo.ferry"}) {
    refused("fingerprint a.db -o " + out, out);
    refused("as-of a.db notes --at 2099-01-01T00:00:00Z -o " + out, out);
    refused("prove a.db " + id + " -o " + out, out);
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

TEST_CASE("odd files are refused at once, by what they are: no hang, no advice to init them, no raw SQL",
          "[e2e][odd-files]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  REQUIRE(::mkfifo(ferry.dir.file("fifo").c_str(), 0600) == 0);
  test::write_file(ferry.dir.file("empty.ferry"), {});
  test::write_file(ferry.dir.file("notes.txt"), {'C', 'R', 'E', 'A', 'T', 'E', ' ', 'T', 'A', 'B', 'L', 'E', '\n'});
  for (const char* command : {"verify fifo", "diff a.db fifo", "network a.db fifo", "import a.db fifo",
                                     "inspect fifo", "status fifo"}) {
    INFO(command);
    const auto r = test::run("cd " + test::shell_quote(ferry.dir.path()) + " && timeout 10 " FERRY_BINARY " " + std::string(command));
    CHECK(r.status != 124);  // timeout(1) says 124 when it had to stop a hang.
    CHECK(r.status != 0);
    CHECK_THAT(r.out, Catch::Contains("fifo: is a FIFO"));
  }
  for (const std::string file : {"empty.ferry", "notes.txt", "/dev/zero"}) {
    INFO(file);
    const auto r = ferry("verify " + file);
    CHECK((r.status == 3 || r.status == 2));
    CHECK_THAT(r.out, !Catch::Contains("ferry init") && !Catch::Contains("SELECT"));
  }
  CHECK_THAT(ferry("verify empty.ferry").out, Catch::Contains("it is empty"));
  CHECK_THAT(ferry("status notes.txt").out, Catch::Contains("is not a SQLite database"));
}

TEST_CASE("a large file that is not a bundle is refused before it is copied", "[e2e][odd-files]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  test::write_file(ferry.dir.file("sparse.ferry"), {});
  REQUIRE(::truncate(ferry.dir.file("sparse.ferry").c_str(), std::int64_t{2} << 30) == 0);  // 2 GiB of holes.
  const auto r = ferry("import a.db sparse.ferry", "TMPDIR=" + test::shell_quote(ferry.dir.path()));
  CHECK(r.status == 3);
  CHECK_THAT(r.out, Catch::Contains("is not a ferry bundle"));
  CHECK(ferry("verify a.db").status == 0);
}

TEST_CASE("TEXT that is not UTF-8 comes out of --json exactly, and names are escaped in messages", "[e2e][json]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, CAST(x'fffe41' AS TEXT), 'ok')");
  const auto log = ferry("log a.db --json");
  REQUIRE(log.status == 0);
  const auto entry = nlohmann::json::parse(log.out).at(0);
  CHECK(entry.at("columns").at("title") == nlohmann::json{{"text", "fffe41"}});
  CHECK(entry.at("columns").at("body") == "ok");
  // A message quoting a name with bytes a terminal would act on shows them escaped.
  const auto missing = ferry("track a.db " + test::shell_quote("no\x1b[2Jpe\xff"));
  CHECK(missing.status == 2);
  CHECK_THAT(missing.out, Catch::Contains("no\\x1b[2Jpe\\xff"));
}

TEST_CASE("a malformed clock after --since is refused, naming the part that is wrong", "[e2e][usage]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  const auto status = nlohmann::json::parse(ferry("status a.db --json").out);
  const std::string id = status.at("device").at("id");
  for (const std::string& since : {id + ":-1", id + ":", id + ":x1", id + ":99999999999999999999",
                                   id + ":1," + id + ":2", std::string("nobody:1")}) {
    INFO(since);
    const auto r = ferry("export a.db --since " + test::shell_quote(since) + " -o s.ferry");
    CHECK(r.status == 2);
    CHECK_THAT(r.out, Catch::Contains("does not end in a sequence number") || Catch::Contains("twice") ||
                          Catch::Contains("is not DEVICE-ID:SEQ"));
  }
  CHECK(ferry("export a.db --since " + id + ":0 -o s.ferry").status == 0);
}

TEST_CASE("a database on a read-only mount can be shown and verified, a change is refused saying read-only",
          "[e2e][read-only]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'kept', 'here')");
  REQUIRE(ferry("export a.db --all -o a.ferry").status == 0);
  const std::string ro = ferry.dir.file("ro");
  REQUIRE(::mkdir(ro.c_str(), 0755) == 0);
  // A real read-only mount where this process may make one (root, as in CI); else files and folder without write
  // permission, which an unprivileged process cannot write either.
  const bool mounted = ::geteuid() == 0 && test::run("mount -t tmpfs -o size=8m tmpfs " + ro).status == 0;
  struct Unmount {  // Also when a check below stops the test: no mount outlives it.
    std::string path;
    ~Unmount() {
      if (!path.empty()) (void)test::run("umount " + path);
    }
  } unmount{mounted ? ro : ""};
  REQUIRE(test::run("cp " + ferry.dir.file("a.db") + " " + ferry.dir.file("a.db.key") + " " + ro).status == 0);
  if (mounted) {
    REQUIRE(test::run("mount -o remount,ro " + ro).status == 0);
  } else if (::geteuid() != 0) {
    REQUIRE(test::run("chmod a-w " + ro + "/a.db " + ro).status == 0);
  } else {
    // Root ignores permissions, so only a mount makes a file read-only for it (a container may forbid mounts).
    WARN("root without permission to mount: the read-only mount case is not run here");
    return;
  }
  const auto status = ferry("status ro/a.db");
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::Contains("operations 1"));
  CHECK(ferry("verify ro/a.db").status == 0);
  CHECK(ferry("log ro/a.db").status == 0);
  for (const char* change : {"import ro/a.db a.ferry", "export ro/a.db --all -o out.ferry", "track ro/a.db notes"}) {
    INFO(change);
    const auto r = ferry(change);
    CHECK(r.status == 5);
    CHECK_THAT(r.out, Catch::Contains("is read-only") && !Catch::Contains("SELECT") && !Catch::Contains("cannot prepare"));
  }
}

TEST_CASE("import of several bundles reports each: imported, or refused with the reason, the rest are still tried",
          "[e2e][import]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  prepared(ferry, "b.db", "b");
  prepared(ferry, "c.db", "c");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'from a', '')");
  ferry.sql("c.db", "INSERT INTO notes VALUES(3, 'from c', '')");
  REQUIRE(ferry("export a.db --all -o a1.ferry").status == 0);
  REQUIRE(ferry("export c.db --all -o c1.ferry").status == 0);
  auto bytes = test::read_file(ferry.dir.file("a1.ferry"));
  bytes.resize(5000);
  test::write_file(ferry.dir.file("bad.ferry"), bytes);
  const auto r = ferry("import b.db a1.ferry bad.ferry c1.ferry --json");
  CHECK(r.status == 3);  // The first failure's exit code.
  const auto out = nlohmann::json::parse(r.out.substr(0, r.out.rfind('}') + 1));
  REQUIRE(out.at("files").size() == 3);
  CHECK(out["files"][0]["outcome"] == "imported");
  CHECK(out["files"][1]["outcome"] == "refused");
  CHECK(out["files"][1]["error"] == "corrupt");
  CHECK_THAT(out["files"][1]["message"].get<std::string>(), Catch::Contains("bad.ferry: is truncated"));
  CHECK(out["files"][2]["outcome"] == "imported");
  CHECK(out["applied"] == 2);
  CHECK(test::count(ferry.dir.file("b.db"), "SELECT count(*) FROM notes") == 2);
}
