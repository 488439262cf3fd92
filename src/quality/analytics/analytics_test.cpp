#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "caliper/quality/indicators.h"
#include "caliper/quality/reviewers.h"

namespace caliper::quality {
namespace {

TEST(FisherExact, PublishedTables) {
  // Fisher's lady tasting tea (Fisher 1935; Agresti 2002 Table 3.8): two-sided p = 34/70.
  EXPECT_NEAR(FisherExactTwoSided(3, 1, 1, 3), 34.0 / 70.0, 1e-12);
  // Agresti 2002 / the dieting example: [[1, 9], [11, 3]], two-sided p = 0.002759456.
  EXPECT_NEAR(FisherExactTwoSided(1, 9, 11, 3), 0.0027594561852200836, 1e-12);
  // Symmetric under transposition and row swap; degenerate margins give 1.
  EXPECT_NEAR(FisherExactTwoSided(1, 11, 9, 3), FisherExactTwoSided(1, 9, 11, 3), 1e-15);
  EXPECT_NEAR(FisherExactTwoSided(11, 3, 1, 9), FisherExactTwoSided(1, 9, 11, 3), 1e-15);
  EXPECT_EQ(FisherExactTwoSided(0, 0, 4, 5), 1.0);
  EXPECT_EQ(FisherExactTwoSided(5, 0, 7, 0), 1.0);
  // Lower tail (scipy.stats.fisher_exact(..., alternative='less')).
  EXPECT_NEAR(FisherExactLess(3, 1, 1, 3), 69.0 / 70.0, 1e-12);
  EXPECT_NEAR(FisherExactLess(1, 9, 11, 3), 0.0013797280926100418, 1e-12);
}

TEST(Holm, MatchesRPAdjust) {
  // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
  const std::vector<double> p = {0.01, 0.04, 0.03, 0.005};
  const auto adjusted = HolmAdjust(p);
  ASSERT_EQ(adjusted.size(), 4u);
  EXPECT_NEAR(adjusted[0], 0.03, 1e-15);
  EXPECT_NEAR(adjusted[1], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[3], 0.02, 1e-15);
  EXPECT_EQ(HolmAdjust(std::vector<double>{0.6, 0.7})[1], 1.0);
}

TEST(Wilson, NewcombeTableValues) {
  // Newcombe 1998 (Stat Med 17:857), method 3 (score interval without continuity correction).
  struct Case { std::int64_t hits, n; double lo, hi; };
  for (const Case& c : {Case{81, 263, 0.2553, 0.3662}, Case{15, 148, 0.0624, 0.1605},
                        Case{0, 20, 0.0, 0.1611}, Case{1, 29, 0.0061, 0.1718}}) {
    auto p = WilsonProportion(c.hits, c.n);
    ASSERT_TRUE(p.ok());
    EXPECT_NEAR(p->lo, c.lo, 5e-5) << c.hits << "/" << c.n;
    EXPECT_NEAR(p->hi, c.hi, 5e-5) << c.hits << "/" << c.n;
    EXPECT_DOUBLE_EQ(p->rate, static_cast<double>(c.hits) / static_cast<double>(c.n));
  }
  auto none = WilsonProportion(0, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(std::isnan(none->rate));
  EXPECT_FALSE(WilsonProportion(3, 2).ok());
  EXPECT_FALSE(WilsonProportion(-1, 2).ok());
}

TEST(Indicators, GroupsAndWeeklyBuckets) {
  const std::int64_t week = 7 * 24 * 3600;
  std::vector<Outcome> outcomes = {
      {0, "CT", true}, {10, "CT", false}, {week + 5, "MR", true}, {week + 6, "MR", true},
      {3 * week, "CT", false}, {-1, "CT", false}};
  auto report = SummariseOutcomes(outcomes, week);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->overall.n, 6);
  EXPECT_EQ(report->overall.hits, 3);
  ASSERT_EQ(report->by_group.size(), 2u);
  EXPECT_EQ(report->by_group[0].group, "CT");
  EXPECT_EQ(report->by_group[0].rate.n, 4);
  EXPECT_EQ(report->by_group[0].rate.hits, 1);
  EXPECT_EQ(report->by_group[1].rate.hits, 2);
  ASSERT_EQ(report->over_time.size(), 4u);
  EXPECT_EQ(report->over_time[0].bucket_start, -week);  // floor, not truncation
  EXPECT_EQ(report->over_time[1].bucket_start, 0);
  EXPECT_EQ(report->over_time[1].rate.n, 2);
  EXPECT_EQ(report->over_time[2].bucket_start, week);
  EXPECT_DOUBLE_EQ(report->over_time[2].rate.rate, 1.0);
  EXPECT_EQ(report->over_time[3].bucket_start, 3 * week);
  EXPECT_FALSE(SummariseOutcomes(outcomes, 0).ok());
}

TEST(Readers, FlagsTheReaderWhoDeviatesAndOnlyThem) {
  // 40 gold items, reference "a" on even items and "b" on odd ones. Readers r1..r3 agree on
  // 38-39 of 40; r4 agrees on 20 (labels everything "a").
  std::vector<ReferenceLabel> reference;
  std::vector<Rating> ratings;
  for (int i = 0; i < 40; ++i) {
    const std::string item = "i" + std::to_string(i);
    const std::string truth = i % 2 ? "b" : "a";
    const std::string wrong = i % 2 ? "a" : "b";
    reference.push_back({item, truth});
    ratings.push_back({item, "r1", i == 3 ? wrong : truth});
    ratings.push_back({item, "r2", i == 4 || i == 9 ? wrong : truth});
    ratings.push_back({item, "r3", truth});
    ratings.push_back({item, "r4", "a"});
  }
  ratings.push_back({"unreferenced", "r1", "a"});
  auto analytics = AnalyseReaders(ratings, reference);
  ASSERT_TRUE(analytics.ok()) << analytics.status().message();
  EXPECT_EQ(analytics->unreferenced, 1);
  ASSERT_EQ(analytics->readers.size(), 4u);
  EXPECT_EQ(analytics->categories, (std::vector<std::string>{"a", "b"}));
  const auto& r4 = analytics->readers[3];
  EXPECT_EQ(r4.reader, "r4");
  EXPECT_EQ(r4.n, 40);
  EXPECT_EQ(r4.agree, 20);
  EXPECT_TRUE(r4.flagged);
  EXPECT_LT(r4.p_adjusted, 0.05);
  // Its confusion matrix: every "b" reference read as "a".
  EXPECT_EQ(r4.confusion[1][0], 20);
  EXPECT_EQ(r4.confusion[0][0], 20);
  EXPECT_EQ(r4.confusion[1][1], 0);
  for (int r = 0; r < 3; ++r) {
    EXPECT_FALSE(analytics->readers[static_cast<std::size_t>(r)].flagged)
        << analytics->readers[static_cast<std::size_t>(r)].reader;
  }
  // r1: 39/40 against the peers' pooled 98/120 (r4 pulls them down): above them, so the
  // one-sided test for "below" gives p near 1 (scipy: 0.99926059).
  EXPECT_NEAR(analytics->readers[0].p_value, 0.9992605934584414, 1e-12);
  // r4: 20/40 against 117/120 (scipy: 1.0902e-11).
  EXPECT_NEAR(r4.p_value, 1.0902380602522573e-11, 1e-20);
  EXPECT_GE(analytics->readers[0].p_adjusted, analytics->readers[0].p_value);
}

TEST(Readers, RejectsContradictoryReferenceAndBadAlpha) {
  std::vector<ReferenceLabel> reference = {{"x", "a"}, {"x", "b"}};
  std::vector<Rating> ratings = {{"x", "r", "a"}};
  EXPECT_FALSE(AnalyseReaders(ratings, reference).ok());
  EXPECT_FALSE(AnalyseReaders(ratings, std::vector<ReferenceLabel>{{"x", "a"}}, 1.5).ok());
  auto lonely = AnalyseReaders(ratings, std::vector<ReferenceLabel>{{"x", "a"}});
  ASSERT_TRUE(lonely.ok());
  EXPECT_FALSE(lonely->readers[0].flagged);  // no peers: no test
  EXPECT_EQ(lonely->readers[0].p_value, 1.0);
}

}  // namespace
}  // namespace caliper::quality
