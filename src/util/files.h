#pragma once
// Making a finished file appear at its path durably: flush it, rename it over
// the target, flush the folder. A crash leaves the old target or the new one.

#include <string>
#include <vector>

namespace ferry::util {

std::string folder_of(const std::string& path);
// fsync of a file or folder; `what` names it in the error.
void sync_path(const std::string& path, const std::string& what);
// REQUIRES: `temp` is complete and closed, in the same folder as `target`.
// Throws Error(database) naming `target` and `what` if any step fails.
void publish(const std::string& temp, const std::string& target, const std::string& what);
// Writes `text` to a temporary file beside `target`, then publishes it: `target`
// is replaced whole or not at all. Throws Error(database) naming `target` and `what`.
void write_file_atomically(const std::string& target, const std::string& text, const std::string& what);

// Whether the folder `path` is in is on a file system a carrier uses (FAT,
// exFAT, FUSE, a network share) rather than a local disk's: there ferry
// builds a file on the local disk and copies it in whole, in order, because
// SQLite's writes in place (pages out of order, locks) are slow on a USB
// stick and not kept by every such driver.
bool on_carrier_filesystem(const std::string& path);
// Copies the complete file `source` to `target` as write_file_atomically
// does, reading the copy back against the source before it is renamed into
// place: `target` is replaced whole, by a verified copy, or not at all.
// Throws Error(database) naming `target` and `what`.
void copy_file_atomically(const std::string& source, const std::string& target, const std::string& what);

// What a file of this st_mode is, for a refusal: "a FIFO", "a folder", ...
const char* kind_of_file(unsigned mode);

// The first `n` bytes of the file at `path` (fewer if it is shorter), read
// without ever blocking: a path that is not a regular file (a FIFO, a device,
// a folder) is refused with Error(invalid_argument) saying what it is, before
// anything is read. Throws Error(not_found) for a path that does not exist.
std::string read_head(const std::string& path, std::size_t n);

// A file an output must never replace, and what it is ("the database's key").
struct Precious {
  std::string path;
  std::string what;
};
// Refuses, with Error(invalid_argument), an output path that names one of
// `precious` (the same file under any name: compared by device and inode, and
// by canonical path for one that does not exist yet), or that exists and is
// not a regular file (a symbolic link, a FIFO, a device node). ferry replaces an
// output whole, so it must never be pointed at those. `what` names the output.
void refuse_precious_output(const std::string& output, const std::vector<Precious>& precious, const std::string& what);

// A template for mkstemp or mkdtemp: `<folder>/<prefix><pid>-XXXXXX`. First it
// removes what a dead process left there (killed mid-export or mid-import):
// entries of `folder` named `<prefix><pid>-...` that this user owns and whose
// process no longer runs. A process still running keeps its files.
std::string temp_template(const std::string& folder, const std::string& prefix);

// A folder only this user may enter (mkdtemp: mode 0700) under $TMPDIR or /tmp,
// removed with everything in it when the object goes, or by the next one made
// if this process is killed first (temp_template). Throws Error(database)
// saying it was needed `for` what.
class PrivateFolder {
 public:
  explicit PrivateFolder(const std::string& for_what);
  ~PrivateFolder();
  PrivateFolder(const PrivateFolder&) = delete;
  PrivateFolder& operator=(const PrivateFolder&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ferry::util
