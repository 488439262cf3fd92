#include "caliper/common/clock.h"

#include <gtest/gtest.h>

namespace caliper {
namespace {

TEST(ClockTest, FormatsRfc3339Utc) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatRfc3339(1'767'225'600LL * kMicrosPerSecond + 123456), "2026-01-01T00:00:00.123456Z");
}

TEST(ClockTest, ParsesWhatItFormatsAndOffsets) {
  TimeMicros t = 1'790'000'000LL * kMicrosPerSecond + 42;
  auto parsed = ParseRfc3339(FormatRfc3339(t));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, t);
  auto with_offset = ParseRfc3339("2026-01-01T02:00:00+02:00");
  ASSERT_TRUE(with_offset.ok());
  EXPECT_EQ(*with_offset, 1'767'225'600LL * kMicrosPerSecond);
  auto no_fraction = ParseRfc3339("2026-01-01T00:00:00Z");
  ASSERT_TRUE(no_fraction.ok());
  EXPECT_EQ(*no_fraction, 1'767'225'600LL * kMicrosPerSecond);
}

TEST(ClockTest, RejectsMalformedTimes) {
  for (const char* bad : {"", "2026-01-01", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00",
                          "2026-01-01T00:00:00Zjunk", "2026-01-01T25:00:00Z", "2026-01-01T00:00:00.Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(1000);
  EXPECT_EQ(clock.Now(), 1000);
  clock.Advance(kMicrosPerMinute);
  EXPECT_EQ(clock.Now(), 1000 + kMicrosPerMinute);
}

}  // namespace
}  // namespace caliper
