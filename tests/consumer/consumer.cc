// Two devices sync through a bundle, with ferry found by find_package(ferry).
#include <ferry/engine.h>
#include <sqlite3.h>

#include <cstdio>
#include <string>

int main(int, char** argv) {
  const std::string dir = argv[1];
  for (const char* name : {"/a.db", "/b.db"}) {
    sqlite3* db = nullptr;
    sqlite3_open((dir + name).c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", nullptr, nullptr, nullptr);
    if (name[1] == 'a') sqlite3_exec(db, "INSERT INTO t VALUES(1, 'x')", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  ferry::Engine a = ferry::Engine::init(dir + "/a.db", "a");
  ferry::Engine b = ferry::Engine::init(dir + "/b.db", "b");
  a.track("t");
  b.track("t");
  ferry::ExportOptions all;
  all.all = true;
  a.export_bundle(dir + "/a.ferry", all);
  const auto s = b.import_bundle(dir + "/a.ferry");
  std::printf("C++ consumer: applied %zu\n", s.applied);
  return s.applied == 1 ? 0 : 1;
}
