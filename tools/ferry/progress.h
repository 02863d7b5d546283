#pragma once
// A progress bar on stderr for long exports and imports: count, rate and time
// left, redrawn in place. Draws nothing when stderr is not a terminal.

#include <chrono>
#include <string>

#include "ferry/engine.h"

namespace ferry::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();  // Clears the line it drew.
  Progress callback();

 private:
  void draw(std::size_t done, std::size_t total);
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ferry::cli
