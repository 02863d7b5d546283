#pragma once
// The ferry binary as a test drives it: in a folder of its own, as a person at
// a shell would.
#include <catch2/catch.hpp>
#include <string>

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

}  // namespace test
