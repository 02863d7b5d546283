#include "carrier/folder.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "ferry/error.h"

namespace ferry::carrier {
namespace {

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

Folder::Folder(std::string path) : path_(std::move(path)) {
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0)
    throw Error(errno == ENOENT ? Errc::not_found : Errc::database,
                path_ + ": cannot open the folder: " + std::strerror(errno) + " (is the stick plugged in and mounted?)");
  if (!S_ISDIR(st.st_mode)) throw Error(Errc::invalid_argument, path_ + ": is not a folder; give the folder the bundles are in");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path_.c_str()), ::closedir);
  if (!dir) throw Error(Errc::database, path_ + ": cannot read the folder: " + std::strerror(errno));
  while (const dirent* e = ::readdir(dir.get())) taken_.push_back(lower(e->d_name));
  std::sort(taken_.begin(), taken_.end());
}

std::vector<std::string> Folder::bundles() const {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path_.c_str()), ::closedir);
  if (!dir) throw Error(Errc::database, path_ + ": cannot read the folder: " + std::strerror(errno));
  while (const dirent* e = ::readdir(dir.get())) {
    const std::string name = e->d_name;
    const std::string l = lower(name);
    if (name.empty() || name[0] == '.' || l.size() <= 6 || l.compare(l.size() - 6, 6, ".ferry") != 0) continue;
    struct stat st;
    if (::lstat(file(name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Folder::free_stem(const std::string& stem) {
  auto used = [&](const std::string& candidate) {
    const std::string c = lower(candidate);
    return std::any_of(taken_.begin(), taken_.end(), [&](const std::string& t) {
      return t == c || starts_with(t, c + ".") || starts_with(t, c + "-");
    });
  };
  std::string chosen = stem;
  for (int n = 2; used(chosen); ++n) chosen = stem + "-" + std::to_string(n);
  taken_.push_back(lower(chosen));
  return chosen;
}

bool Folder::remove(const std::string& name) {
  if (::unlink(file(name).c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw Error(Errc::database, file(name) + ": cannot remove it: " + std::strerror(errno));
}

std::string fat_safe(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    const bool bad = c < 0x20 || c == 0x7f || std::strchr("\"*/:<>?\\| ", c) != nullptr;
    if (bad) {
      if (!out.empty() && out.back() != '-') out += '-';
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() > 40) {
    std::size_t cut = 40;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // Not inside a character.
    out.resize(cut);
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(out.begin());
  return out;
}

}  // namespace ferry::carrier
