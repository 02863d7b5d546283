#pragma once
// Making a finished file appear at its path durably: flush it, rename it over
// the target, flush the folder. A crash leaves the old target or the new one.

#include <string>

namespace ferry::util {

std::string folder_of(const std::string& path);
// fsync of a file or folder; `what` names it in the error.
void sync_path(const std::string& path, const std::string& what);
// REQUIRES: `temp` is complete and closed, in the same folder as `target`.
// Throws Error(database) naming `target` and `what` if any step fails.
void publish(const std::string& temp, const std::string& target, const std::string& what);

}  // namespace ferry::util
