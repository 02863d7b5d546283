#pragma once
// The fingerprint file's parser on its own, for read_fingerprint and the fuzz harness.

#include <string>
#include <string_view>

#include "ferry/reports.h"

namespace ferry::fingerprint {

// `path` names the file in messages. Throws Error(corrupt) or Error(refused).
Fingerprint parse_file(std::string_view text, const std::string& path);

}  // namespace ferry::fingerprint
