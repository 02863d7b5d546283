// libFuzzer harness: a bundle file from a stranger. Each input is written to a
// file and goes through everything a user can point ferry at -- inspect,
// verify and import into a fresh database tracking the example tables.
//
// Findings are: a crash or sanitizer report; any exception other than
// ferry::Error (every refusal must be one, with a message); an import that
// succeeds and leaves a database whose own log does not verify.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ferry/engine.h"
#include "ferry/error.h"
#include "fuzz_support.h"

namespace {

std::string g_dir;
std::string g_template;  // Bytes of an initialized database tracking `items` and `tags`.

void reset_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::ofstream(path, std::ios::binary).write(g_template.data(), static_cast<std::streamsize>(g_template.size()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_dir = ferry::fuzz::make_work_dir("ferry-fuzz-bundle");
  const std::string db = g_dir + "/template.db";
  ferry::fuzz::sqlite_exec(db,
                           "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, photo BLOB);"
                           "CREATE TABLE tags(item INTEGER, tag TEXT, note TEXT, PRIMARY KEY(item, tag)) WITHOUT ROWID;");
  {
    auto engine = ferry::Engine::init(db, "fuzz");
    engine.track("items");
    engine.track("tags");
  }
  std::ifstream in(db, std::ios::binary);
  g_template.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bundle = g_dir + "/input.ferry";
  ferry::fuzz::write_file(bundle, data, size);
  try {
    (void)ferry::inspect_bundle(bundle);
  } catch (const ferry::Error&) {
  }
  try {
    (void)ferry::verify_bundle(bundle);
  } catch (const ferry::Error&) {
  }
  const std::string db = g_dir + "/replica.db";
  reset_database(db);
  try {
    auto engine = ferry::Engine::open(db);
    try {
      (void)engine.import_bundle(bundle);
    } catch (const ferry::Error&) {
      return 0;  // Refused: the database must be as it was, which the next check shows.
    }
    const ferry::VerifyReport report = engine.verify();
    if (!report.ok) {
      std::fprintf(stderr, "an accepted bundle left a log that does not verify: %s\n", report.first_failure.c_str());
      std::abort();
    }
  } catch (const ferry::Error& e) {
    std::fprintf(stderr, "the replica could not be opened or verified after an import: %s\n", e.what());
    std::abort();
  }
  return 0;
}
