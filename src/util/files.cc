#include "util/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ferry/error.h"
#include "util/handle.h"

namespace ferry::util {

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

void sync_path(const std::string& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw Error(Errc::database, path + ": cannot flush " + what + " to disk: " + std::strerror(err));
  }
  ::close(fd);
}

const char* kind_of_file(unsigned mode) {
  return S_ISLNK(mode)                    ? "a symbolic link"
         : S_ISDIR(mode)                  ? "a folder"
         : S_ISFIFO(mode)                 ? "a FIFO"
         : S_ISSOCK(mode)                 ? "a socket"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
                                          : "not a regular file";
}

std::string read_head(const std::string& path, std::size_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw Error(Errc::not_found, path + ": no such file");
    throw Error(Errc::not_found, path + ": cannot open: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd);
    throw Error(Errc::invalid_argument, path + ": is " + kind_of_file(mode) + ", not a regular file ferry can read");
  }
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, out.data() + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

void refuse_precious_output(const std::string& output, const std::vector<Precious>& precious, const std::string& what) {
  auto refuse = [&](const std::string& why) {
    throw Error(Errc::invalid_argument, output + ": " + why + "; give the " + what + " another file name. Nothing was written.");
  };
  struct stat out;
  const bool exists = ::lstat(output.c_str(), &out) == 0;
  if (exists && !S_ISREG(out.st_mode))
    refuse(std::string("exists and is ") + kind_of_file(out.st_mode) + ", which ferry would replace with a regular file");
  std::error_code ec;
  const auto canonical_output = std::filesystem::weakly_canonical(output, ec);
  for (const auto& p : precious) {
    struct stat st;
    const bool same_file =
        exists && ::stat(p.path.c_str(), &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino;
    std::error_code ec2;
    const bool same_name = !ec && std::filesystem::weakly_canonical(p.path, ec2) == canonical_output && !ec2;
    if (same_file || same_name) refuse("is " + p.what + " (" + p.path + "), which writing the " + what + " would destroy");
  }
}

void write_file_atomically(const std::string& target, const std::string& text, const std::string& what) {
  const std::string temp = target + ".ferry-tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      ::unlink(temp.c_str());
      throw Error(Errc::database, target + ": cannot write the " + what + " (check the folder exists and is writable)");
    }
  }
  try {
    publish(temp, target, what);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
}

bool on_carrier_filesystem(const std::string& path) {
  struct statfs fs;
  if (::statfs(folder_of(path).c_str(), &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x4d44:      // FAT (msdos, vfat)
    case 0x2011bab0:  // exFAT
    case 0x65735546:  // FUSE (fusefat, exfat-fuse, sshfs, ...)
    case 0x6969:      // NFS
    case 0xff534d42:  // CIFS
    case 0xfe534d42:  // SMB2
    case 0x517b:      // SMB
      return true;
    default:
      return false;
  }
}

void copy_file_atomically(const std::string& source, const std::string& target, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return Error(Errc::database, target + ": cannot write the " + what + ", so none was written there: " + why);
  };
  std::string temp = temp_template(folder_of(target), ".ferry-export-");
  int out = ::mkstemp(temp.data());
  if (out < 0) throw fail("cannot create a file in " + folder_of(target) + ": " + std::strerror(errno));
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  try {
    if (in < 0) throw fail(source + ": " + std::strerror(errno));
    std::string chunk(1 << 20, '\0'), back(1 << 20, '\0');
    auto read_all = [&](int fd, std::string& into, off_t at) {  // Up to a chunk, from `at`.
      std::size_t got = 0;
      while (got < into.size()) {
        const ssize_t r = ::pread(fd, into.data() + got, into.size() - got, at + static_cast<off_t>(got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw fail(std::strerror(errno));
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
      }
      return got;
    };
    off_t at = 0;
    for (std::size_t n; (n = read_all(in, chunk, at)) > 0; at += static_cast<off_t>(n))
      for (std::size_t put = 0; put < n;) {
        const ssize_t w = ::pwrite(out, chunk.data() + put, n - put, at + static_cast<off_t>(put));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw fail(std::strerror(errno));
        put += static_cast<std::size_t>(w);
      }
    if (::fsync(out) != 0) throw fail(std::string("cannot flush it to the disk: ") + std::strerror(errno));
    struct stat st;
    if (::fstat(out, &st) != 0 || st.st_size != at) throw fail("the copy on the disk has the wrong size (is the medium failing?)");
    for (off_t back_at = 0; back_at < at;) {  // The copy, read back, against the source.
      const std::size_t n = read_all(in, chunk, back_at);
      if (n == 0 || read_all(out, back, back_at) != n || std::memcmp(chunk.data(), back.data(), n) != 0)
        throw fail("the copy read back from the disk differs from what was written (is the medium failing?)");
      back_at += static_cast<off_t>(n);
    }
    ::close(in);
    ::close(out);
    in = out = -1;
    if (::rename(temp.c_str(), target.c_str()) != 0)
      throw fail(std::string("cannot move it into place: ") + std::strerror(errno));
    sync_path(folder_of(target), "the folder");
  } catch (...) {
    if (in >= 0) ::close(in);
    if (out >= 0) ::close(out);
    ::unlink(temp.c_str());
    throw;
  }
}

void publish(const std::string& temp, const std::string& target, const std::string& what) {
  sync_path(temp, what);
  if (::rename(temp.c_str(), target.c_str()) != 0)
    throw Error(Errc::database, target + ": cannot move the finished " + what + " into place: " + std::strerror(errno));
  sync_path(folder_of(target), "the folder");
}

std::string temp_template(const std::string& folder, const std::string& prefix) {
  // Closed however the scan ends (std::string and remove_all may throw, out of memory).
  if (const Handle<DIR, ::closedir> dir{::opendir(folder.c_str())}) {
    const uid_t me = ::geteuid();
    while (const dirent* entry = ::readdir(dir.get())) {
      const std::string name = entry->d_name;
      if (name.compare(0, prefix.size(), prefix) != 0) continue;
      char* end = nullptr;
      const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
      if (pid <= 0 || end == nullptr || *end != '-') continue;
      if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // Alive, or not ours to judge.
      const std::string path = folder + "/" + name;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || st.st_uid != me) continue;
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  }
  return folder + "/" + prefix + std::to_string(::getpid()) + "-XXXXXX";
}

PrivateFolder::PrivateFolder(const std::string& for_what) {
  const char* tmp = std::getenv("TMPDIR");
  path_ = temp_template(tmp && *tmp ? tmp : "/tmp", "ferry-");
  if (::mkdtemp(path_.data()) == nullptr)
    throw Error(Errc::database, "cannot create a private folder " + for_what + ": " + std::strerror(errno));
}

PrivateFolder::~PrivateFolder() {
  try {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    return;
  } catch (...) {
    // remove_all allocates, and may throw even with an error_code; a destructor must not.
  }
  // The folder holds files only: remove them without allocating anything of ours.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd)) {
    while (const dirent* entry = ::readdir(dir))
      if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) ::unlinkat(fd, entry->d_name, 0);
    ::closedir(dir);
  } else if (fd >= 0) {
    ::close(fd);
  }
  ::rmdir(path_.c_str());
}

}  // namespace ferry::util
