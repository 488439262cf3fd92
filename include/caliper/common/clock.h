#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "caliper/common/status.h"

namespace caliper {

// Microseconds since the Unix epoch, UTC.
using TimeMicros = std::int64_t;

inline constexpr TimeMicros kMicrosPerSecond = 1'000'000;
inline constexpr TimeMicros kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr TimeMicros kMicrosPerHour = 60 * kMicrosPerMinute;

// Where "now" comes from. Injected so tests control time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMicros Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  TimeMicros Now() const override;
  // A process-wide instance; never destroyed.
  static Clock& Instance();
};

// A clock that moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimeMicros start = 1'767'225'600LL * kMicrosPerSecond)  // 2026-01-01
      : now_(start) {}
  TimeMicros Now() const override { return now_.load(); }
  void Advance(TimeMicros delta) { now_ += delta; }
  void Set(TimeMicros t) { now_ = t; }

 private:
  std::atomic<TimeMicros> now_;
};

// RFC 3339 UTC with microseconds: "2026-11-26T18:37:19.123456Z".
std::string FormatRfc3339(TimeMicros t);
// Parses RFC 3339 with a 'Z' or numeric offset, fractional seconds optional.
Result<TimeMicros> ParseRfc3339(std::string_view text);

}  // namespace caliper
