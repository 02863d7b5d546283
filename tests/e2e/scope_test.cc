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
