#include "guide.h"

#include <algorithm>
#include <iostream>
#include <vector>

#include "commands.h"

namespace ferry::cli {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and
// swaps of two neighbours (the usual typos) each count one.
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

void print_verbs(const CLI::App& app) {
  std::cout << app.get_description() << "\n\nUsage: ferry VERB [OPTIONS] ARGUMENTS...\n\nVerbs:\n";
  for (const CLI::App* verb : app.get_subcommands({})) {
    std::string name = verb->get_name();
    name.resize(std::max<std::size_t>(name.size() + 2, 13), ' ');
    std::cout << "  " << name << verb->get_description() << "\n";
  }
  std::cout << "\n`ferry help VERB` (or `ferry VERB --help`) shows a verb's arguments and options; "
               "`man ferry` all of them.\nA first sync: README.md, \"A five-minute walkthrough\".\n";
}

int not_a_verb(const CLI::App& app, const std::string& typed) {
  std::cerr << "ferry: '" << typed << "' is not a ferry verb.";
  const std::string near = nearest_verb(app, typed);
  if (!near.empty()) std::cerr << " Did you mean '" << near << "'?";
  std::cerr << " `ferry help` lists the verbs.\n";
  return kUsage;
}

}  // namespace

std::string nearest_verb(const CLI::App& app, const std::string& typed) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const CLI::App* verb : app.get_subcommands({})) {
    const std::string& name = verb->get_name();
    // A prefix of one verb is as near as can be; otherwise at most a third of the letters wrong.
    const std::size_t d = name.rfind(typed, 0) == 0 ? 0 : distance(typed, name);
    if (d < best_distance && d <= std::max<std::size_t>(1, name.size() / 3)) best = name, best_distance = d;
  }
  return best;
}

std::optional<int> guide(CLI::App& app, int argc, const char* const* argv) {
  if (argc < 2) {
    print_verbs(app);
    return kOk;
  }
  const std::string first = argv[1];
  if (first == "help") {
    if (argc == 2 || std::string(argv[2]) == "help") {  // `ferry help help`: what help itself does.
      print_verbs(app);
      return kOk;
    }
    const std::string verb = argv[2];
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == verb) {
        std::cout << sub->help("ferry");
        return kOk;
      }
    return not_a_verb(app, verb);
  }
  if (first.empty() || first[0] == '-') return std::nullopt;  // --help, --version: CLI11's.
  for (const CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() == first) return std::nullopt;
  return not_a_verb(app, first);
}

}  // namespace ferry::cli
