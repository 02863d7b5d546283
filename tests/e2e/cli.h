#pragma once
// The ferry binary as a test drives it: in a folder of its own, as a person at
// a shell would.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/support.h"

namespace test {

struct Cli {
  TempDir dir;
  Run operator()(const std::string& args, const std::string& env = "") const {
    return run("cd " + shell_quote(dir.path()) + " && " + env + " " FERRY_BINARY " " + args);
  }
  void sql(const std::string& db, const std::string& statements) const { exec(dir.file(db), statements); }
};

inline const char* kNotes = "CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT, body TEXT)";

// `db` with the notes table, made a device called `name`, the table tracked.
inline void prepared(const Cli& ferry, const std::string& db, const std::string& name) {
  ferry.sql(db, kNotes);
  REQUIRE(ferry("init " + db + " --name " + name).status == 0);
  REQUIRE(ferry("track " + db + " notes").status == 0);
}

// Runs the commands ("$ ..." lines) of the first sh block after `heading` in
// the README, in `ferry`'s folder as a person would type them (the ferry just
// built first on the PATH), checking that each succeeds. Returns what each
// printed, by command, in the order run.
inline std::vector<std::pair<std::string, Run>> run_readme(const Cli& ferry, const std::string& heading) {
  std::ifstream readme(FERRY_README);
  REQUIRE(readme);
  std::stringstream text;
  text << readme.rdbuf();
  const std::string all = text.str();
  const auto start = all.find("```sh", all.find(heading));
  REQUIRE(start != std::string::npos);
  const auto end = all.find("```", start + 5);
  std::istringstream block(all.substr(start + 5, end - start - 5));
  const std::string bin = FERRY_BINARY;
  const std::string path = "PATH=" + shell_quote(bin.substr(0, bin.rfind('/'))) + ":$PATH";
  std::vector<std::pair<std::string, Run>> ran;
  for (std::string line; std::getline(block, line);) {
    if (line.rfind("$ ", 0) != 0) continue;
    INFO(line);
    const Run r = run("cd " + shell_quote(ferry.dir.path()) + " && export " + path + " && " + line.substr(2));
    INFO(r.out);
    CHECK(r.status == 0);
    ran.emplace_back(line.substr(2), r);
  }
  return ran;
}

}  // namespace test
