#pragma once
// What the tool says to someone finding their way, before CLI11 parses:
//   ferry                the story in a line, and the verbs
//   ferry help [VERB]    the same, or one verb's arguments and options
//   ferry exprot ...     "exprot" is not a verb; the nearest one is suggested
// Everything else goes on to CLI11 (main.cc).

#include <CLI/CLI.hpp>
#include <optional>

namespace ferry::cli {

// The exit code when the command line was one of the above (the text
// printed), or nothing when it is for CLI11 to parse.
std::optional<int> guide(CLI::App& app, int argc, const char* const* argv);

// The verb of `app` nearest to `typed` (a typo, a prefix), or "" when none is near.
std::string nearest_verb(const CLI::App& app, const std::string& typed);

}  // namespace ferry::cli
