// Recovering through the CLI after an impostor's bundle won the first-use race
// (bundle_format/README.md §14, "A key replaced"): every step tells the person
// at the keyboard what happened and what to run next, and the end is the real
// device's rows. And recovering a database an older ferry prepared: it is
// upgraded in place, and the tool says so.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "e2e/cli.h"
#include "ferry/engine.h"
#include "support/impostor.h"

using test::Cli;

namespace {

std::string status_key(const Cli& ferry, const std::string& db) {
  const auto r = ferry("status " + db + " --json");
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out)["device"]["public_key"].get<std::string>();
}

std::string device_id(const Cli& ferry, const std::string& db) {
  return ferry::Engine::open(ferry.dir.file(db)).device_id().to_string();
}

}  // namespace

TEST_CASE("the CLI walks a person from an impostor's pinned key to the real device's rows", "[cli][trust]") {
  Cli ferry;
  test::prepared(ferry, "a.db", "field-laptop");
  test::prepared(ferry, "b.db", "office");
  test::prepared(ferry, "m.db", "mallory");
  const std::string a = device_id(ferry, "a.db");
  test::pose_as(ferry.dir.file("m.db"), ferry::Uuid::parse(a).value());
  ferry.sql("m.db", "INSERT INTO notes VALUES(1, 'forged', 'pay mallory')");
  REQUIRE(ferry("export m.db --all -o m.ferry").status == 0);
  const auto first = ferry("import b.db m.ferry");
  REQUIRE(first.status == 0);
  CHECK_THAT(first.out, Catch::Contains("fingerprint"));

  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'real', 'the visit on Monday')");
  REQUIRE(ferry("export a.db --all -o a.ferry").status == 0);
  const auto refused = ferry("import b.db a.ferry");
  CHECK(refused.status == 6);
  CHECK_THAT(refused.out, Catch::Contains("someone is impersonating it") && Catch::Contains("trust b.db add " + a));

  const std::string key = status_key(ferry, "a.db");
  const auto asked = ferry("trust b.db add " + a + " " + key);
  CHECK(asked.status == 4);
  CHECK_THAT(asked.out, Catch::Contains("operation 1 of device " + a) && Catch::Contains("--forget") &&
                            Catch::Contains("Nothing was changed"));
  CHECK(test::dump(ferry.dir.file("b.db"), "notes") == "1|'forged'|'pay mallory'\n");

  const auto forgot = ferry("trust b.db add " + a + " " + key + " --forget --json");
  REQUIRE(forgot.status == 0);
  const auto summary = nlohmann::json::parse(forgot.out);
  CHECK(summary["replaced"] == true);
  CHECK(summary["forgotten"] == 1);
  CHECK(summary["rows"] == 1);
  CHECK(test::dump(ferry.dir.file("b.db"), "notes").empty());

  const auto imported = ferry("import b.db a.ferry");
  CHECK(imported.status == 0);
  CHECK(test::dump(ferry.dir.file("b.db"), "notes") == "1|'real'|'the visit on Monday'\n");
  const auto status = ferry("status b.db");
  CHECK(status.status == 0);
  CHECK_THAT(status.out, !Catch::Contains("fork"));
}

TEST_CASE("a database ferry 3.x prepared is upgraded by the first command that opens it, which says so once",
          "[e2e][upgrade]") {
  Cli ferry;
  for (const std::string file : {"office.db", "office.db.key"}) {
    const std::string from = std::string(FERRY_GOLDEN_DIR) + "/local3/" + file;
    test::write_file(ferry.dir.file(file), test::read_file(from));
    REQUIRE(::chmod(ferry.dir.file(file).c_str(), 0600) == 0);
  }
  const auto first = ferry("status office.db 2>&1 >/dev/null");  // Only what goes to stderr.
  CHECK(first.status == 0);
  CHECK_THAT(first.out, Catch::Contains("office.db: upgraded in place from local format 3") &&
                            Catch::Contains("every operation, hash and signature is unchanged"));
  const auto again = ferry("verify office.db 2>&1 >/dev/null");
  CHECK(again.status == 0);
  CHECK(again.out.empty());
  CHECK_THAT(ferry("verify office.db").out, Catch::Contains("7 operations from 2 devices verified"));
}

TEST_CASE("while a peer runs ferry 3.x, `ferry compat DB 3` seals what it reads, and `4` ends it", "[e2e][upgrade]") {
  Cli ferry;
  test::prepared(ferry, "clinic.db", "clinic");
  CHECK_THAT(ferry("compat clinic.db").out, Catch::Contains("for ferry 4 peers only"));
  ferry.sql("clinic.db", "INSERT INTO notes VALUES(1, 'before', 'sealed as format 2')");
  const auto refused = ferry("export clinic.db --all --format 3 -o old.ferry");
  CHECK(refused.status == 4);
  CHECK_THAT(refused.out, Catch::Contains("cannot carry") && Catch::Contains("ferry compat DB 3"));

  test::prepared(ferry, "office.db", "office");
  const auto on = ferry("compat office.db 3");
  CHECK(on.status == 0);
  CHECK_THAT(on.out, Catch::Contains("ferry 3.x peers can read them"));
  CHECK_THAT(ferry("status office.db").out, Catch::Contains("for ferry 3.x peers"));
  CHECK_THAT(ferry("status office.db --json").out, Catch::Contains("\"ferry3_compatible\": true"));
  ferry.sql("office.db", "INSERT INTO notes VALUES(2, 'office', 'sealed as format 1')");
  CHECK(ferry("export office.db --all --format 3 -o for-3x.ferry").status == 0);
  CHECK_THAT(ferry("inspect for-3x.ferry").out, Catch::Contains("3.0"));
  CHECK(ferry("compat office.db 4").status == 0);
  CHECK_THAT(ferry("compat office.db").out, Catch::Contains("for ferry 4 peers only"));
  CHECK(ferry("compat office.db 5").status == 2);
}
