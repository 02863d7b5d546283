#pragma once
// `-o -`: a file written whole in a private folder, then copied to standard
// output, so that what reaches the pipe is only ever a complete bundle (an
// export that fails writes nothing there), without holding it in memory.

#include <string>

namespace ferry::cli {

class StdoutFile {
 public:
  // REQUIRES: standard output is not a terminal (throws Error otherwise: a
  // bundle's bytes would garble it). `name` is the file's name in the folder.
  explicit StdoutFile(const std::string& name);
  ~StdoutFile();  // Removes the file and its folder.
  StdoutFile(const StdoutFile&) = delete;
  StdoutFile& operator=(const StdoutFile&) = delete;

  const std::string& path() const { return path_; }
  // Copies the file to standard output; throws Error when it cannot (a closed pipe, a full disk).
  void send() const;

 private:
  std::string folder_, path_;
};

}  // namespace ferry::cli
