#pragma once
// A progress bar on stderr for long exports and imports: count, rate and time
// left, redrawn in place. Draws nothing when stderr is not a terminal, nor
// after quiet(). Clear it before printing the result, so that the result
// starts a clean line.

#include <chrono>
#include <optional>
#include <string>

#include "ferry/engine.h"

namespace ferry::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar() { clear(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  Progress callback();
  // Erases the line it drew, if any; it may draw again after.
  void clear();
  // No bar from now on, in this process (--quiet).
  static void quiet();

  // The line drawn for `done` of `total` at `rate` operations per second,
  // measured since the first report; no rate yet: no time left is guessed.
  static std::string line(const std::string& label, std::size_t done, std::size_t total, std::optional<double> rate);

 private:
  void draw(std::size_t done, std::size_t total);
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
  // The first report: the rate counts from here, not from the work before the
  // first operation (opening, verifying), which would make a short job look long.
  std::optional<std::pair<Clock::time_point, std::size_t>> first_;
};

}  // namespace ferry::cli
