#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace ferry::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

Progress ProgressBar::callback() {
  if (!enabled_) return {};
  return [this](std::size_t done, std::size_t total) { draw(done, total); };
}

void ProgressBar::draw(std::size_t done, std::size_t total) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (secs < 0.3 || total == 0) return;  // Quick jobs never flash a bar.
  const double rate = done / secs;
  const double left = rate > 0 ? (total - done) / rate : 0;
  const int width = 30, filled = static_cast<int>(width * done / total);
  std::fprintf(stderr, "\r\033[K%s [%s%s] %zu/%zu  %.0f ops/s  %.0fs left", label_.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), done, total, rate, left);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace ferry::cli
