#pragma once
// A carrier's folder as ferry sync sees it (ferry/sync.h): the bundle files in
// it, names chosen so that FAT32 and exFAT take them (no forbidden characters,
// compared without case), and files removed only by name, never through a link.

#include <string>
#include <vector>

namespace ferry::carrier {

class Folder {
 public:
  // Throws Error(not_found) for a path that does not exist, Error(invalid_argument)
  // for one that is not a folder.
  explicit Folder(std::string path);
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // The regular files named *.ferry (any case), not hidden, in name order. A
  // link, a folder or a device of that name is left out: a carrier holds files.
  std::vector<std::string> bundles() const;
  // A stem no file of the folder starts with (any case), followed by '.' or
  // '-': `stem`, or `stem-2`, `stem-3`, ... Remembers it as taken.
  std::string free_stem(const std::string& stem);
  // Removes the file `name`; true if it was there (another device may have
  // removed it first). Throws Error(database) when it is there and stays.
  bool remove(const std::string& name);

 private:
  std::string path_;
  std::vector<std::string> taken_;  // Every name, lower case (ASCII), as listed and as chosen since.
};

// `name` with what FAT forbids in a file name ("*/:<>?\| and control
// characters) and spaces made '-', runs of '-' made one, at most 40 bytes
// (never cutting a UTF-8 character), no leading or trailing '-' or '.'.
std::string fat_safe(const std::string& name);

}  // namespace ferry::carrier
