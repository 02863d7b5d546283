// The carrier's workflow at the keyboard: devices that only run `ferry sync`
// on one folder -- the README's three devices, a FAT-formatted stick, a mail
// round under a size limit -- converge, and a damaged file is named and left.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.h"

using test::Cli;

namespace {

std::vector<std::string> names_in(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(folder)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A FAT16 file system in an image, mounted at `at` through FUSE (fusefat)
// where this machine allows it; otherwise nothing is mounted and `mounted` is false.
struct FatStick {
  explicit FatStick(const std::string& image, const std::string& at) : at_(at) {
    std::filesystem::create_directories(at);
    const auto made = test::run("command -v mkfs.vfat >/dev/null && command -v fusefat >/dev/null && "
                                "truncate -s 48M " + test::shell_quote(image) + " && mkfs.vfat " +
                                test::shell_quote(image) + " >/dev/null && fusefat -o rw+ " +
                                test::shell_quote(image) + " " + test::shell_quote(at) + " >/dev/null 2>&1");
    mounted = made.status == 0 && test::run("mount | grep -q " + test::shell_quote(at)).status == 0;
  }
  ~FatStick() {
    if (mounted) (void)test::run("fusermount -u " + test::shell_quote(at_) + " || umount " + test::shell_quote(at_));
  }
  bool mounted = false;

 private:
  std::string at_;
};

}  // namespace

TEST_CASE("README: three devices and a stick, then a mail round in parts, through sync alone", "[e2e][sync]") {
  Cli ferry;
  const auto ran = test::run_readme(ferry, "## Carrying bundles: a USB stick or mail");
  auto out_of = [&](const std::string& command) {
    for (const auto& [c, r] : ran)
      if (c == command) return r.out;
    FAIL("not run: " << command);
    return std::string();
  };
  CHECK_THAT(out_of("ferry sync clinic.db stick"), Catch::Contains("from-clinic-") && Catch::Contains("introduction"));
  CHECK_THAT(out_of("sqlite3 office.db \"SELECT * FROM notes\""), Catch::Contains("1|stock|out of gauze"));
  const std::string listed = out_of("ls mail");
  CHECK_THAT(listed, Catch::Contains("to-office-") && Catch::Contains("-1of") && Catch::Contains("-2of"));
  for (const auto& name : names_in(ferry.dir.file("mail")))
    CHECK(std::filesystem::file_size(ferry.dir.file("mail/" + name)) <= 100 * 1024);
  CHECK_THAT(out_of("sqlite3 office.db \"SELECT count(*) FROM notes\""), Catch::Contains("1500"));
  for (const char* db : {"clinic.db", "depot.db", "office.db"}) CHECK(ferry(std::string("verify ") + db).status == 0);
}

TEST_CASE("three devices converge through sync alone on a FAT-formatted stick", "[e2e][sync]") {
  Cli ferry;
  FatStick stick(ferry.dir.file("stick.img"), ferry.dir.file("stick"));
  if (!stick.mounted)
    WARN("no FAT image could be mounted here (fusefat, mkfs.vfat, /dev/fuse): the folder is a plain one");
  for (const std::string d : {"a", "b", "c"}) {
    ferry.sql(d + ".db", test::kNotes);
    REQUIRE(ferry("init " + d + ".db --name 'Clinic: " + d + "'").status == 0);  // ':' and ' ' become '-' in file names.
    REQUIRE(ferry("track " + d + ".db notes").status == 0);
    ferry.sql(d + ".db", "INSERT INTO notes VALUES(" + std::to_string(d[0]) + ", 'from " + d + "', '')");
  }
  if (stick.mounted) CHECK(test::run("ln -s x " + test::shell_quote(ferry.dir.file("stick/link"))).status != 0);
  for (int round = 0; round < 3; ++round)
    for (const std::string d : {"a", "b", "c"}) {
      const auto r = ferry("sync " + d + ".db stick");
      INFO(d << " in round " << round << ": " << r.out);
      REQUIRE(r.status == 0);
    }
  const std::string a = test::dump(ferry.dir.file("a.db"), "notes");
  CHECK(test::dump(ferry.dir.file("b.db"), "notes") == a);
  CHECK(test::dump(ferry.dir.file("c.db"), "notes") == a);
  CHECK(test::count(ferry.dir.file("a.db"), "SELECT count(*) FROM notes") == 3);
  // No temporary file, and only names FAT takes.
  for (const auto& name : names_in(ferry.dir.file("stick"))) {
    CHECK(name[0] != '.');
    CHECK(name.find_first_of(":\\\"*?<>| ") == std::string::npos);
  }
  const auto quiet = ferry("sync a.db stick --json");
  REQUIRE(quiet.status == 0);
  const auto report = nlohmann::json::parse(quiet.out);
  CHECK(report["exports"].empty());
  CHECK(report["deletions"].empty());
  CHECK(report["up_to_date"].size() == 2);
}

TEST_CASE("sync names a damaged file, leaves it, imports the rest, and exits 3", "[e2e][sync]") {
  Cli ferry;
  test::prepared(ferry, "a.db", "a");
  test::prepared(ferry, "b.db", "b");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'one', '')");
  REQUIRE(ferry("sync a.db stick").status == 2);  // No such folder: a usage error, named.
  std::filesystem::create_directory(ferry.dir.file("stick"));
  REQUIRE(ferry("sync a.db stick").status == 0);
  test::write_file(ferry.dir.file("stick/TO-B.FERRY"), {'S', 'Q', 'L', 'i', 't', 'e'});
  const auto r = ferry("sync b.db stick");
  CHECK(r.status == 3);
  CHECK_THAT(r.out, Catch::Contains("REFUSED") && Catch::Contains("TO-B.FERRY") && Catch::Contains("left in the folder"));
  CHECK_THAT(r.out, Catch::Contains("imported  from-a-"));
  CHECK(std::filesystem::exists(ferry.dir.file("stick/TO-B.FERRY")));
  CHECK(ferry("sync a.db stick --max-size 12X").status == 2);
}

TEST_CASE("export --max-size writes parts named -KofN under the limit, which import takes in any order", "[e2e][sync]") {
  Cli ferry;
  test::prepared(ferry, "a.db", "a");
  test::prepared(ferry, "b.db", "b");
  ferry.sql("a.db", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) "
                    "INSERT INTO notes SELECT i, 'note ' || i, hex(randomblob(60)) FROM n");
  const auto out = ferry("export a.db --all --max-size 100K -o out.ferry --json");
  REQUIRE(out.status == 0);
  const auto parts = nlohmann::json::parse(out.out)["parts"];
  REQUIRE(parts.size() >= 2);
  std::string reversed;
  for (std::size_t k = parts.size(); k-- > 0;) {
    const std::string file = parts[k]["file"];
    CHECK(file == "out-" + std::to_string(k + 1) + "of" + std::to_string(parts.size()) + ".ferry");
    CHECK(std::filesystem::file_size(ferry.dir.file(file)) <= 100 * 1024);
    reversed += " " + file;
  }
  const auto imported = ferry("import b.db" + reversed);
  INFO(imported.out);
  REQUIRE(imported.status == 0);
  CHECK(test::dump(ferry.dir.file("b.db"), "notes") == test::dump(ferry.dir.file("a.db"), "notes"));

  SECTION("standard output takes one bundle: --max-size with -o - is refused") {
    const auto r = ferry("export a.db --all --max-size 100K -o -");
    CHECK(r.status == 2);
    CHECK_THAT(r.out, Catch::Contains("give a file name"));
  }
  SECTION("a value larger than the limit is refused by name, and nothing is written") {
    ferry.sql("a.db", "INSERT INTO notes VALUES(9999, 'big', hex(randomblob(80000)))");
    const auto r = ferry("export a.db --all --max-size 100K -o big.ferry");
    CHECK(r.status == 4);
    CHECK_THAT(r.out, Catch::Contains("by itself") && Catch::Contains("Raise the limit (--max-size)"));
    CHECK_FALSE(std::filesystem::exists(ferry.dir.file("big-1of2.ferry")));
    CHECK_FALSE(std::filesystem::exists(ferry.dir.file("big.ferry")));
  }
}
