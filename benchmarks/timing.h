#pragma once
// The benchmarks' clock: seconds since a point, on a steady clock.
#include <chrono>

namespace bench {

using Clock = std::chrono::steady_clock;
inline double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace bench
