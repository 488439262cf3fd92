#include "caliper/quality/intervals.h"

#include <gtest/gtest.h>

namespace caliper::quality {
namespace {

using V = std::vector<TimeInterval>;
using B = std::vector<BeatLabel>;

TEST(IntervalAgreementTest, HandComputedMatchesAndErrors) {
  // A: AF 0-10, AF 20-30, VT 40-42.  B: AF 1-10 (IoU 0.9), AF 24-30 (IoU 0.6), VT 50-52 (no overlap),
  // SVT 60-61 (class A never used).
  const V a = {{0, 10, "AF"}, {20, 30, "AF"}, {40, 42, "VT"}};
  const V b = {{1, 10, "AF"}, {24, 30, "AF"}, {50, 52, "VT"}, {60, 61, "SVT"}};
  auto r = CompareIntervals(a, b, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->matched_intervals, 2u);
  EXPECT_DOUBLE_EQ(r->interval_f1, 4.0 / 7.0);  // 2 * 2 / (3 + 4)
  EXPECT_DOUBLE_EQ(*r->mean_onset_error_ms, (1000.0 + 4000.0) / 2);
  EXPECT_DOUBLE_EQ(*r->mean_offset_error_ms, 0.0);
  EXPECT_DOUBLE_EQ(*r->max_onset_error_ms, 4000.0);
  ASSERT_EQ(r->per_class.size(), 3u);
  EXPECT_EQ(r->per_class[0].label, "AF");
  EXPECT_DOUBLE_EQ(r->per_class[0].f1, 1.0);
  EXPECT_EQ(r->per_class[1].label, "SVT");
  EXPECT_DOUBLE_EQ(r->per_class[1].f1, 0.0);
  EXPECT_EQ(r->per_class[2].label, "VT");
  EXPECT_DOUBLE_EQ(r->per_class[2].f1, 0.0);
  EXPECT_DOUBLE_EQ(r->beat_f1, 1.0);  // neither reader labelled beats
  EXPECT_FALSE(r->mean_beat_error_ms.has_value());
}

TEST(IntervalAgreementTest, ThresholdIsInclusiveAndMatchingOneToOne) {
  // IoU of 0-10 and 5-15 is 5/15 = 1/3; with threshold 1/3 it matches, above it does not.
  const V a = {{0, 10, "AF"}};
  const V b = {{5, 15, "AF"}, {0, 9, "AF"}};
  auto loose = CompareIntervals(a, {b.data(), 1}, {}, {}, {1.0 / 3.0, 0.15});
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ(loose->matched_intervals, 1u);
  auto strict = CompareIntervals(a, {b.data(), 1}, {}, {}, {0.34, 0.15});
  EXPECT_EQ(strict->matched_intervals, 0u);
  // One interval of A can match only one of B: the best (0-9, IoU 0.9) wins.
  auto both = CompareIntervals(a, b, {}, {});
  EXPECT_EQ(both->matched_intervals, 1u);
  EXPECT_DOUBLE_EQ(*both->mean_offset_error_ms, 1000.0);
  EXPECT_DOUBLE_EQ(both->interval_f1, 2.0 / 3.0);
}

TEST(IntervalAgreementTest, BeatsWithinTheEc57Window) {
  // A's N at 1.000 matches B's N at 1.100 (100 ms); A's N at 2.000 and B's N at 2.151 are 151 ms
  // apart (no match); A's V at 3.0 and B's N at 3.0 differ in class.
  const B a = {{1.0, "N"}, {2.0, "N"}, {3.0, "V"}};
  const B b = {{1.1, "N"}, {2.151, "N"}, {3.0, "N"}};
  auto r = CompareIntervals({}, {}, a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->matched_beats, 1u);
  EXPECT_DOUBLE_EQ(r->beat_f1, 2.0 / 6.0);
  EXPECT_NEAR(*r->mean_beat_error_ms, 100.0, 1e-9);
  EXPECT_DOUBLE_EQ(r->interval_f1, 1.0);  // no intervals on either side
  // The closest pair is taken first: B's beats at 0.95 and 1.02 against A's at 1.0 and 0.9.
  auto c = CompareIntervals({}, {}, B{{1.0, "N"}, {0.9, "N"}}, B{{0.95, "N"}, {1.02, "N"}});
  EXPECT_EQ(c->matched_beats, 2u);
  EXPECT_NEAR(*c->mean_beat_error_ms, (20.0 + 50.0) / 2, 1e-9);
}

TEST(IntervalAgreementTest, OneSidedAndInvalidInput) {
  auto one = CompareIntervals(V{{0, 1, "AF"}}, {}, B{{0.5, "N"}}, {});
  ASSERT_TRUE(one.ok());
  EXPECT_DOUBLE_EQ(one->interval_f1, 0.0);
  EXPECT_DOUBLE_EQ(one->beat_f1, 0.0);
  EXPECT_EQ(CompareIntervals(V{{2, 2, "AF"}}, {}, {}, {}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CompareIntervals({}, {}, {}, {}, {0.0, 0.15}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CompareIntervals({}, {}, {}, {}, {0.5, 0.0}).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace caliper::quality
