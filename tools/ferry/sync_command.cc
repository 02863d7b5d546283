// ferry sync: the whole exchange through a folder (ferry/sync.h), and the
// sizes --max-size takes.
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "ferry/sync.h"
#include "progress.h"
#include "render.h"

namespace ferry::cli {

std::uint64_t parse_size(const std::string& text, const std::string& option) {
  std::size_t at = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  std::string unit = text.substr(at);
  for (char& c : unit) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  if (unit == "B" || unit.empty()) unit = "";
  else if (unit.size() >= 2 && unit.back() == 'B') unit.pop_back();  // "MB", "MiB".
  if (!unit.empty() && unit.back() == 'I') unit.pop_back();
  const int shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : -1;
  std::uint64_t n = 0;
  bool fits = at > 0 && at <= 12 && shift >= 0;
  if (fits) n = std::stoull(text.substr(0, at));
  if (fits && n > 0 && (n << shift) >> shift == n) return n << shift;
  throw Error(Errc::invalid_argument, option + " " + printable(text) + ": give a size such as 20M, 700K or 2G (K = 1024 "
                                      "bytes), greater than 0");
}

namespace {

// "imported  FILE: ..." lines, for people.
void say_files(const std::vector<SyncFile>& files, std::map<DeviceId, std::string>& names) {
  for (SyncFile f : files) {
    if (const auto id = Uuid::parse(f.peer)) f.peer = device_label(*id, names[*id]);
    std::string word, what = f.detail;
    switch (f.outcome) {
      case SyncFile::Outcome::imported: word = "imported"; what = import_line(*f.import); break;
      case SyncFile::Outcome::already_imported: word = "skipped"; what = "imported here before"; break;
      case SyncFile::Outcome::same_as: word = "skipped"; what = "the same bundle as " + f.detail; break;
      case SyncFile::Outcome::not_for_this_device: word = "skipped"; break;
      case SyncFile::Outcome::refused: word = "REFUSED"; break;
      case SyncFile::Outcome::not_tried: word = "not tried"; what = "stopped at the error above"; break;
      case SyncFile::Outcome::written:
        word = "wrote";
        what = (f.peer.empty() ? std::string("this device's introduction, for whoever reads the folder")
                               : "for " + f.peer + ": " + plural(f.exported->operations, "operation", "operations")) +
               ", " + std::to_string(f.exported->bytes) + " bytes";
        break;
      case SyncFile::Outcome::deleted: word = "deleted"; break;
    }
    (f.outcome == SyncFile::Outcome::refused ? std::cerr : std::cout)
        << "  " << word << std::string(word.size() < 9 ? 9 - word.size() : 0, ' ') << " " << printable(f.file) << ": "
        << printable(what, std::string::npos) << "\n";
    if (f.import)
      for (const auto& r : f.import->removed_scopes) std::cout << "            " << removed_scope_line(r) << "\n";
  }
}

}  // namespace

int cmd_sync(const SyncArgs& a) {
  auto e = open_engine(a.db);
  SyncOptions options;
  if (!a.max_size.empty()) options.max_size = parse_size(a.max_size, "--max-size");
  std::unique_ptr<ProgressBar> bar;  // The step under way; each clears the one before.
  options.progress = [&](const std::string& step) {
    bar = std::make_unique<ProgressBar>(step);
    return bar->callback();
  };
  const SyncReport r = sync_folder(e, a.folder, options);
  bar.reset();
  if (a.json) {
    print(render::sync_report(r));
  } else {
    std::cout << "sync " << printable(r.folder) << "\n";
    auto names = device_names(e);
    say_files(r.imports, names);
    say_files(r.exports, names);
    for (const auto& peer : r.up_to_date) std::cout << "  up to date " << printable(peer) << ": nothing new to send\n";
    say_files(r.deletions, names);
    if (r.imports.empty() && r.exports.empty() && r.up_to_date.empty())
      std::cout << "  nothing to import, and no peer yet: import a first bundle from each peer (ferry import), or "
                   "export one for it (ferry export --peer), and sync writes for it from then on\n";
  }
  return r.first_error ? exit_code(*r.first_error) : kOk;
}

}  // namespace ferry::cli
