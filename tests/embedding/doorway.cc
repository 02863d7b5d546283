// The two-device scenario of tests/embedding/doorways.sh through the C++ API.
//   doorway DIR
#include <sqlite3.h>

#include <cstdio>
#include <string>

#include "ferry/engine.h"

namespace {

void sql(const std::string& path, const char* statements) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK || sqlite3_exec(db, statements, nullptr, nullptr, nullptr) != SQLITE_OK)
    throw ferry::Error(ferry::Errc::database, path + ": " + sqlite3_errmsg(db));
  sqlite3_close(db);
}

ferry::Engine device(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name + ".db";
  sql(path, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, photo BLOB)");
  ferry::Engine e = ferry::Engine::init(path, name);
  e.track("items");
  return e;
}

void send(ferry::Engine& from, ferry::Engine& to, const std::string& file) {
  ferry::ExportOptions all;
  all.all = true;
  from.export_bundle(file, all);
  (void)to.import_bundle(file);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: doorway DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  try {
    ferry::Engine a = device(dir, "a"), b = device(dir, "b");
    sql(dir + "/a.db", "INSERT INTO items VALUES(1, 'bolt', 0.1, x'00ff'), (2, 'nut', NULL, NULL)");
    sql(dir + "/b.db", "INSERT INTO items VALUES(3, 'washer', 2.5, x'')");
    send(a, b, dir + "/a1.ferry");
    send(b, a, dir + "/b1.ferry");
    sql(dir + "/b.db", "UPDATE items SET price = 0.2 WHERE id = 1");
    send(b, a, dir + "/b2.ferry");
  } catch (const ferry::Error& e) {
    std::fprintf(stderr, "doorway: %s\n", e.what());
    return 1;
  }
  return 0;
}
