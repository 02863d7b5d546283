#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace ferry::cli {
namespace {

bool quieted = false;

// A rate is believed once this long has passed since the first report, over this share of the work.
constexpr double kRateSeconds = 1.0;
constexpr double kRateShare = 0.02;

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(!quieted && ::isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}

void ProgressBar::quiet() { quieted = true; }

Progress ProgressBar::callback() {
  if (!enabled_) return {};
  return [this](std::size_t done, std::size_t total) { draw(done, total); };
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

std::string ProgressBar::line(const std::string& label, std::size_t done, std::size_t total, std::optional<double> rate) {
  if (total == 0) return label;
  done = std::min(done, total);
  const std::size_t width = 30, filled = width * done / total;
  std::string out = label + " [" + std::string(filled, '#') + std::string(width - filled, '.') + "] " +
                    std::to_string(done) + "/" + std::to_string(total);
  char tail[64];
  if (rate && *rate > 0) {
    std::snprintf(tail, sizeof tail, "  %.0f ops/s  %.0fs left", *rate, (total - done) / *rate);
  } else {
    std::snprintf(tail, sizeof tail, "  estimating");
  }
  return out + tail;
}

void ProgressBar::draw(std::size_t done, std::size_t total) {
  const auto now = Clock::now();
  if (!first_) first_.emplace(now, done);
  if (total == 0 || std::chrono::duration<double>(now - start_).count() < 0.3) return;  // Quick jobs never flash a bar.
  const double since_first = std::chrono::duration<double>(now - first_->first).count();
  const std::size_t done_since = done - std::min(done, first_->second);
  std::optional<double> rate;
  if (since_first >= kRateSeconds && done_since >= kRateShare * total) rate = done_since / since_first;
  std::fprintf(stderr, "\r\033[K%s", line(label_, done, total, rate).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace ferry::cli
