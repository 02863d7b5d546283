#include "support/support.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "trust/keys.h"

namespace test {

TempDir::TempDir(bool prefer_memory) {
  std::error_code ec;
  const bool shm = prefer_memory && std::filesystem::is_directory("/dev/shm", ec);
  std::string tmpl = ((shm ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path()) /
                      "ferry-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ferry::sql::Database app(const std::string& path) {
  return ferry::sql::Database(path, ferry::sql::Database::Mode::create);
}

void exec(const std::string& path, const std::string& sql) { app(path).exec(sql); }

ferry::DeviceId counting_id(std::uint8_t first) {
  ferry::DeviceId d;
  for (std::size_t i = 0; i < 16; ++i) d.bytes[i] = static_cast<std::uint8_t>(first + i);
  return d;
}

void as_left_by_ferry_3(const std::string& path) {
  exec(path, "DROP TABLE ferry_deps; DROP TABLE ferry_moved; DROP INDEX ferry_devices_list; UPDATE ferry_meta SET value = 3 WHERE key = 'format'");
}

std::int64_t count(const std::string& path, const std::string& sql) {
  auto db = app(path);
  auto st = db.prepare(sql);
  st.step();
  return st.integer(0);
}

std::string dump(const std::string& path, const std::string& table) {
  auto db = app(path);
  auto st = db.prepare("SELECT * FROM " + ferry::sql::quote_identifier(table) + " ORDER BY 1, 2");
  std::string out;
  while (st.step()) {
    for (int i = 0; i < st.column_count(); ++i) out += (i ? "|" : "") + st.value(i).to_display();
    out += "\n";
  }
  return out;
}

pid_t in_child(const std::function<void()>& work) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    try {
      work();
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  return pid;
}

int env_count(const char* name, int fallback) {
  const char* v = std::getenv(name);
  const int n = v != nullptr ? std::atoi(v) : 0;
  return n > 0 ? n : fallback;
}

Run run(const std::string& command) {
  Run r;
  FILE* p = ::popen(("{ " + command + "\n} 2>&1").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed");
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace test

namespace test {
namespace {

std::vector<std::string> created_tables(const std::string& path) {
  std::vector<std::string> out;
  auto db = app(path);
  auto st = db.prepare("SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'ferry_%' AND name NOT LIKE 'sqlite_%'");
  while (st.step()) out.push_back(st.text(0));
  return out;
}

ferry::Engine prepared(const std::string& path, const std::string& name, const std::string& schema) {
  exec(path, schema);
  auto e = ferry::Engine::init(path, name);
  for (const auto& t : created_tables(path)) e.track(t);
  return e;
}

}  // namespace

Replica::Replica(const TempDir& dir, const std::string& n, const std::string& schema)
    : name(n), path(dir.file(n + ".db")), engine(prepared(path, n, schema)) {}

ferry::Engine copy_device(const Replica& r, const std::string& path) {
  exec(r.path, "VACUUM INTO " + shell_quote(path));
  write_file(ferry::trust::key_path(path), read_file(ferry::trust::key_path(r.path)));
  ::chmod(ferry::trust::key_path(path).c_str(), 0600);
  return ferry::Engine::open(path);
}

const char* const kClinicSchema =
    "CREATE TABLE visits(id INTEGER PRIMARY KEY, note TEXT, clinic INTEGER);"
    "CREATE TABLE drugs(id INTEGER PRIMARY KEY, name TEXT)";

void track_clinic_tables(Replica& r) {
  r.engine.track("visits", "clinic");
  r.engine.track("drugs");
}

std::string export_for(ferry::Engine& from, const ferry::DeviceId& to, const std::string& path) {
  ferry::ExportOptions options;
  options.peer = to.to_string();
  from.export_bundle(path, options);
  return path;
}

ferry::ExportSummary export_all(Replica& from, const std::string& path) {
  ferry::ExportOptions all;
  all.all = true;
  return from.engine.export_bundle(path, all);
}

ferry::ImportSummary exchange(Replica& from, Replica& to, const TempDir& dir) {
  static int counter = 0;
  const std::string file = dir.file(from.name + "-to-" + to.name + "-" + std::to_string(++counter) + ".ferry");
  ferry::ExportOptions options;
  options.peer = to.engine.device_id().to_string();
  from.engine.export_bundle(file, options);
  return to.engine.import_bundle(file);
}

}  // namespace test
