// Scoped tables as a person meets them: the README's story run as written,
// and what the commands show of chains of a scope.
#include <catch2/catch.hpp>

#include "e2e/cli.h"

using test::Cli;

TEST_CASE("every command of the README's scoped tables story works as written", "[e2e][readme][scope]") {
  Cli ferry;
  const auto ran = test::run_readme(ferry, "## Scoped tables: rows that belong somewhere");
  for (const auto& [line, r] : ran) {
    if (line == "ferry inspect north.ferry")  // Format 4.2, each chain shown as its device in its scope.
      CHECK_THAT(r.out, Catch::Contains("(format 4.2)") && Catch::Contains("in scope '7'"));
    if (line == "ferry log north.db")  // The move: out of 7, into 8, on the office's chains of those scopes.
      CHECK_THAT(r.out, Catch::Contains("in scope '8' #1  insert visits [2]") &&
                            Catch::Contains("in scope '7' #1  delete visits [2]"));
  }
  CHECK(ran.size() >= 14);
  CHECK(test::dump(ferry.dir.file("office.db"), "visits") == test::dump(ferry.dir.file("north.db"), "visits"));
  CHECK(test::dump(ferry.dir.file("north.db"), "visits") == "1|'Ada'|7\n2|'Ben'|8\n");
}

TEST_CASE("a scope expression SQLite would not take is refused by name, exit 2, tracking nothing", "[e2e][scope]") {
  Cli ferry;
  ferry.sql("a.db", "CREATE TABLE visits(id INTEGER PRIMARY KEY, clinic INTEGER)");
  REQUIRE(ferry("init a.db --name a").status == 0);
  const auto refused = ferry("track a.db visits --scope 'random()'");
  CHECK(refused.status == 2);
  CHECK_THAT(refused.out, Catch::Contains("'random()' cannot be the scope of table 'visits'") &&
                              Catch::Contains("non-deterministic"));
  CHECK(ferry("status a.db").out.find("visits") == std::string::npos);
}

TEST_CASE("every command of the README's head office and two clinics works as written, each clinic holding its share",
          "[e2e][readme][scope][fleet]") {
  Cli ferry;
  const auto ran = test::run_readme(ferry, "### A head office and two clinics");
  for (const auto& [line, r] : ran) {
    if (line == "sqlite3 hq.db \"SELECT * FROM patients\"") CHECK(r.out == "1|Ada|7\n2|Ben|8\n");
    if (line == "sqlite3 clinic8.db \"SELECT * FROM patients\"") CHECK(r.out == "2|Ben|8\n");
    if (line == "ferry diff hq.db clinic8.fingerprint")
      CHECK_THAT(r.out, Catch::Contains("compared: the shared tables and scope '8'") && Catch::Contains("identical"));
    if (line == "ferry import clinic7.db revoked.ferry")
      CHECK_THAT(r.out, Catch::Contains("may no longer read scope '7': removed 1 row"));
    if (line == "sqlite3 clinic7.db \"SELECT count(*) FROM patients\"") CHECK(r.out == "0\n");
    if (line == "ferry status clinic8.db") CHECK_THAT(r.out, Catch::Contains("scopes     '8' 1 operation\n"));
  }
  CHECK(ran.size() == 41);
  const auto to_eight = test::read_file(ferry.dir.file("to-8-again.ferry"));
  CHECK(std::string(to_eight.begin(), to_eight.end()).find("Ada") == std::string::npos);
  CHECK(test::dump(ferry.dir.file("clinic8.db"), "drugs") == "1|'aspirin'\n");
}
