// What someone new to ferry meets first: the tool with no arguments, `help`,
// a mistyped verb, a bundle piped instead of written, --quiet, and the
// progress bar's first guess.
#include <catch2/catch.hpp>
#include <sstream>

#include "../../tools/ferry/progress.h"
#include "e2e/cli.h"

using test::Cli;
using test::prepared;

namespace {

// The verbs `ferry --help` lists.
std::vector<std::string> verbs(const Cli& ferry) {
  std::istringstream help(ferry("--help").out);
  std::vector<std::string> out;
  bool listed = false;
  for (std::string line; std::getline(help, line);) {
    if (line == "Subcommands:") listed = true;
    else if (listed && line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ')
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

}  // namespace

TEST_CASE("ferry alone tells what it is for and lists every verb", "[e2e][newcomer]") {
  Cli ferry;
  const auto bare = ferry("");
  CHECK(bare.status == 0);
  CHECK_THAT(bare.out, Catch::StartsWith("ferry: offline sync for SQLite databases through bundle files"));
  const auto all = verbs(ferry);
  CHECK(all.size() >= 20);
  for (const auto& verb : all) {
    INFO(verb);
    CHECK_THAT(bare.out, Catch::Contains("\n  " + verb + " "));
  }
  CHECK(ferry("help").out == bare.out);
}

TEST_CASE("ferry help VERB says what ferry VERB --help says", "[e2e][newcomer]") {
  Cli ferry;
  for (const char* verb : {"export", "trust", "check-proof", "fleet"}) {
    INFO(verb);
    const auto help = ferry(std::string("help ") + verb);
    CHECK(help.status == 0);
    CHECK(help.out == ferry(std::string(verb) + " --help").out);
    CHECK_THAT(help.out, Catch::Contains(std::string("Usage: ferry ") + verb + " "));
  }
  const auto about_help = ferry("help help");  // Help on help: the list of verbs, as `ferry help` alone.
  CHECK(about_help.status == 0);
  CHECK(about_help.out == ferry("help").out);
  const auto unknown = ferry("help exprot");
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.out, Catch::Contains("'exprot' is not a ferry verb") && Catch::Contains("'export'"));
}

TEST_CASE("a mistyped verb is named, with the nearest verb", "[e2e][newcomer]") {
  Cli ferry;
  const std::vector<std::pair<std::string, std::string>> typos = {
      {"exprot", "export"}, {"statsu", "status"}, {"imprt", "import"}, {"checkproof", "check-proof"}, {"fingerprnt", "fingerprint"}};
  for (const auto& [typed, meant] : typos) {
    INFO(typed);
    const auto r = ferry(typed + " a.db");
    CHECK(r.status == 2);
    CHECK_THAT(r.out, Catch::StartsWith("ferry: '" + typed + "' is not a ferry verb. Did you mean '" + meant + "'?"));
  }
  const auto far = ferry("zebra a.db");
  CHECK(far.status == 2);
  CHECK_THAT(far.out, Catch::Contains("'zebra' is not a ferry verb") && !Catch::Contains("Did you mean"));
  CHECK_THAT(far.out, Catch::Contains("ferry help"));
}

TEST_CASE("export -o - writes the bundle to standard output and what it did to stderr", "[e2e][newcomer]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  prepared(ferry, "b.db", "b");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'piped', 'through a pipe')");
  const auto piped = ferry("export a.db --all -o - > piped.ferry 2> said.txt");
  REQUIRE(piped.status == 0);
  CHECK_THAT(test::run("cat " + test::shell_quote(ferry.dir.file("said.txt"))).out,
             Catch::StartsWith("wrote to standard output: 1 operation"));
  REQUIRE(ferry("import b.db piped.ferry").status == 0);
  CHECK(test::dump(ferry.dir.file("b.db"), "notes") == test::dump(ferry.dir.file("a.db"), "notes"));

  SECTION("an export that fails writes nothing to the pipe") {
    const auto failed = ferry("export a.db --peer nobody -o - > nothing.ferry");
    CHECK(failed.status == 2);
    CHECK(test::read_file(ferry.dir.file("nothing.ferry")).empty());
  }
  SECTION("--json cannot share standard output with the bundle") {
    const auto both = ferry("export a.db --all --json -o - > both.out");
    CHECK(both.status == 2);
    CHECK_THAT(both.out, Catch::Contains("--json and -o -"));
    CHECK(test::read_file(ferry.dir.file("both.out")).empty());
  }
}

TEST_CASE("with --quiet, only warnings, errors and a --json result are printed", "[e2e][newcomer]") {
  Cli ferry;
  ferry.sql("a.db", test::kNotes);
  CHECK(ferry("--quiet init a.db --name a").out.empty());
  CHECK(ferry("track a.db notes -q").out.empty());
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'quiet', '')");
  const auto exported = ferry("export a.db --all -o out.ferry --quiet");
  CHECK(exported.status == 0);
  CHECK(exported.out.empty());
  CHECK(ferry("export a.db --all -o - -q > piped.ferry").out.empty());
  const auto status = ferry("status a.db --json -q");
  CHECK_THAT(status.out, Catch::StartsWith("{"));
  const auto missing = ferry("status nowhere.db -q");
  CHECK(missing.status == 2);
  CHECK_THAT(missing.out, Catch::StartsWith("ferry: nowhere.db: no such database"));
}

TEST_CASE("the progress bar guesses no time left before it has measured a rate", "[e2e][newcomer]") {
  using ferry::cli::ProgressBar;
  const std::string early = ProgressBar::line("importing x.ferry", 12, 100000, std::nullopt);
  CHECK_THAT(early, Catch::StartsWith("importing x.ferry [") && Catch::Contains("12/100000") &&
                        Catch::EndsWith("estimating") && !Catch::Contains("left"));
  const std::string later = ProgressBar::line("importing x.ferry", 50000, 100000, 25000.0);
  CHECK_THAT(later, Catch::Contains("[###############...............] 50000/100000") &&
                        Catch::Contains("25000 ops/s") && Catch::EndsWith("2s left"));
  CHECK_THAT(ProgressBar::line("exporting", 200, 100, 10.0), Catch::Contains("100/100") && Catch::EndsWith("0s left"));
}
