#include "stdout_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ferry/error.h"

namespace ferry::cli {

StdoutFile::StdoutFile(const std::string& name) {
  if (::isatty(STDOUT_FILENO) == 1)
    throw Error(Errc::invalid_argument, "-o -: standard output is a terminal, and a bundle is binary: redirect it "
                                        "(`> bundle.ferry`, `| ssh host ferry import ...`) or name a file with -o FILE");
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ferry-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    throw Error(Errc::database, "-o -: cannot make a private folder in " + pattern.substr(0, pattern.rfind('/')) +
                                    " to write the bundle in first: " + std::strerror(errno) + " (set TMPDIR to another folder)");
  folder_ = pattern;
  path_ = folder_ + "/" + name;
}

StdoutFile::~StdoutFile() {
  ::unlink(path_.c_str());
  ::rmdir(folder_.c_str());
}

void StdoutFile::send() const {
  const int in = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw Error(Errc::database, "-o -: cannot read back the bundle written to " + path_ + ": " + std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  std::string failure;
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failure = std::string("cannot read back the bundle: ") + std::strerror(errno);
    if (n <= 0) break;
    for (ssize_t sent = 0; sent < n && failure.empty();) {
      const ssize_t w = ::write(STDOUT_FILENO, buffer.data() + sent, static_cast<std::size_t>(n - sent));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) failure = std::string("cannot write to standard output: ") + std::strerror(errno);
      if (w > 0) sent += w;
    }
    if (!failure.empty()) break;
  }
  ::close(in);
  if (!failure.empty()) throw Error(Errc::database, "-o -: " + failure + "; what reached it is not a whole bundle");
}

}  // namespace ferry::cli
