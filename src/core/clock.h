// tokki/core/clock.h — wall and monotonic time in explicit units.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace tokki {

// Milliseconds since the Unix epoch (wall clock; for stored timestamps).
inline int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Microseconds on the monotonic clock (for durations only).
inline int64_t NowSteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tokki
