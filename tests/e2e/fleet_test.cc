// `ferry fleet` as a person meets it: the README's story run as written, the
// refusals' exit codes and words, and the JSON form.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/cli.h"

using nlohmann::json;
using test::Cli;
using test::prepared;

TEST_CASE("every command of the README's fleet story works as written", "[e2e][readme][fleet]") {
  Cli ferry;
  const auto ran = test::run_readme(ferry, "## Fleets: who may change what");
  for (const auto& [line, r] : ran) {
    if (line == "ferry status clinic.db") CHECK_THAT(r.out, Catch::Contains("HELD") && Catch::Contains("fleet"));
    if (line == "ferry fleet hq.db list") CHECK_THAT(r.out, Catch::Contains("clinic") && Catch::Contains("writes shared tables"));
  }
  const std::size_t commands = ran.size();
  CHECK(commands >= 18);
  // The clinic's row, held until its grant came, reached the administrator.
  CHECK(test::dump(ferry.dir.file("hq.db"), "drugs") == test::dump(ferry.dir.file("clinic.db"), "drugs"));
  CHECK(test::count(ferry.dir.file("hq.db"), "SELECT count(*) FROM drugs") == 1);
}

TEST_CASE("a bundle of a device without a grant exits 6 naming it, and fleet verbs refuse what they cannot do", "[e2e][fleet]") {
  Cli ferry;
  prepared(ferry, "hq.db", "hq");
  prepared(ferry, "member.db", "member");
  prepared(ferry, "rogue.db", "rogue");
  REQUIRE(ferry("fleet hq.db init").status == 0);
  const auto invite = ferry("fleet hq.db invite");
  REQUIRE(invite.status == 0);
  REQUIRE(ferry("fleet member.db join " + invite.out).status == 0);
  REQUIRE(ferry("export hq.db --all -o hq.ferry").status == 0);
  REQUIRE(ferry("import member.db hq.ferry").status == 0);

  ferry.sql("rogue.db", "INSERT INTO notes VALUES(1, 'x', 'y')");
  REQUIRE(ferry("export rogue.db --all -o rogue.ferry").status == 0);
  const auto refused = ferry("import member.db rogue.ferry");
  CHECK(refused.status == 6);
  CHECK_THAT(refused.out, Catch::Contains("rogue.ferry: operation 1 of device") &&
                              Catch::Contains("had no grant to write it") && Catch::Contains("admit"));
  CHECK(test::count(ferry.dir.file("member.db"), "SELECT count(*) FROM notes") == 0);

  const auto not_admin = ferry("fleet member.db grant hq --write-shared");
  CHECK(not_admin.status == 4);
  CHECK_THAT(not_admin.out, Catch::Contains("run this there"));
  const auto elsewhere = ferry("fleet member.db join " + invite.out);  // The same again: no change.
  CHECK(elsewhere.status == 0);
  const auto no_fleet = ferry("fleet rogue.db grant hq");
  CHECK(no_fleet.status == 4);
  CHECK_THAT(no_fleet.out, Catch::Contains("is in no fleet"));
  CHECK(ferry("fleet hq.db join").status == 2);

  const auto listed = ferry("fleet member.db list --json");
  REQUIRE(listed.status == 0);
  const json j = json::parse(listed.out);
  CHECK(j["administrator"] == invite.out.substr(0, 36));
  CHECK(j["started"] == true);
  REQUIRE(j["grants"].size() == 1);
  CHECK(j["grants"][0]["write"] == json::array({"*"}));
  const json status = json::parse(ferry("status member.db --json").out);
  CHECK(status["fleet"]["administrator"] == j["administrator"]);
  const json peers = json::parse(ferry("peers member.db --json").out);
  for (const json& p : peers) CHECK(p["grant"] == (p["id"] == j["administrator"] ? j["grants"][0] : json(nullptr)));
  CHECK_THAT(ferry("peers member.db").out, Catch::Contains("writes every scope"));
}
