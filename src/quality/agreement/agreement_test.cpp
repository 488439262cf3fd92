// Agreement metrics against published values. Each dataset and expected value names its
// source; docs/quality.md lists them all.

#include "caliper/quality/agreement.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace caliper::quality {
namespace {

constexpr double kNA = std::numeric_limits<double>::quiet_NaN();

// Items x categories counts (the "distribution of raters" form) as ratings: item i gets
// counts[i][k] ratings of category values[k], from raters named r0, r1, ... within the item.
RatingSet FromCounts(const std::vector<std::vector<int>>& counts,
                     const std::vector<std::string>& values) {
  std::vector<Rating> ratings;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    int rater = 0;
    for (std::size_t k = 0; k < values.size(); ++k) {
      for (int c = 0; c < counts[i][k]; ++c) {
        ratings.push_back({"s" + std::to_string(i), "r" + std::to_string(rater++), values[k]});
      }
    }
  }
  auto set = RatingSet::FromRatings(ratings);
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return std::move(set).value();
}

// A two-rater contingency table (rows: rater A's category, columns: rater B's) as ratings.
RatingSet FromTable(const std::vector<std::vector<int>>& table,
                    const std::vector<std::string>& values) {
  std::vector<Rating> ratings;
  int item = 0;
  for (std::size_t k = 0; k < table.size(); ++k) {
    for (std::size_t l = 0; l < table.size(); ++l) {
      for (int c = 0; c < table[k][l]; ++c, ++item) {
        ratings.push_back({std::to_string(item), "A", values[k]});
        ratings.push_back({std::to_string(item), "B", values[l]});
      }
    }
  }
  auto set = RatingSet::FromRatings(ratings);
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return std::move(set).value();
}

double Value(const Result<AgreementResult>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->value : kNA;
}

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example of 4
// observers x 12 units with missing values (section C). The same data is Gwet (2014), Handbook
// of Inter-Rater Reliability, 4th ed., p. 120, shipped as `cac.raw4raters` in Gwet's R package
// irrCAC. Rows are units, columns observers A..D, NaN missing.
RatingSet KrippendorffExample() {
  const std::vector<double> m = {
      1,   1,   kNA, 1,    //
      2,   2,   3,   2,    //
      3,   3,   3,   3,    //
      3,   3,   3,   3,    //
      2,   2,   2,   2,    //
      1,   2,   3,   4,    //
      4,   4,   4,   4,    //
      1,   1,   2,   1,    //
      2,   2,   2,   2,    //
      kNA, 5,   5,   5,    //
      kNA, kNA, 1,   1,    //
      kNA, kNA, 3,   kNA,  //
  };
  auto set = RatingSet::FromMatrix(12, 4, m);
  EXPECT_TRUE(set.ok());
  return std::move(set).value();
}

TEST(KrippendorffAlpha, Krippendorff2011ExampleAllLevels) {
  RatingSet set = KrippendorffExample();
  // Krippendorff (2011) reports alpha = 0.743 (nominal), 0.815 (ordinal), 0.849 (interval)
  // and 0.797 (ratio). irrCAC's vignette gives the nominal value as 0.74342.
  EXPECT_NEAR(Value(KrippendorffAlpha(set, MeasurementLevel::kNominal)), 0.74342, 5e-6);
  EXPECT_NEAR(Value(KrippendorffAlpha(set, MeasurementLevel::kOrdinal)), 0.815, 5e-4);
  EXPECT_NEAR(Value(KrippendorffAlpha(set, MeasurementLevel::kInterval)), 0.849, 5e-4);
  EXPECT_NEAR(Value(KrippendorffAlpha(set, MeasurementLevel::kRatio)), 0.797, 5e-4);
  auto r = KrippendorffAlpha(set, MeasurementLevel::kNominal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->n_items, 11u);  // unit 12 has one value: not pairable
  EXPECT_EQ(r->n_raters, 4u);
}

TEST(GwetAndFleiss, Gwet2014RawRatingsWithMissingValues) {
  RatingSet set = KrippendorffExample();
  // irrCAC overview vignette (Gwet 2014 data): percent agreement 0.8181818; AC1 0.77544 with
  // p_e 0.1903212; Fleiss' kappa (Gwet's generalisation) 0.76117 with p_e 0.2387153.
  EXPECT_NEAR(Value(PercentAgreement(set, AgreementWeights::kNone)), 0.8181818, 5e-8);
  auto ac1 = GwetAc(set, AgreementWeights::kNone);
  ASSERT_TRUE(ac1.ok());
  EXPECT_NEAR(ac1->value, 0.77544, 5e-6);
  EXPECT_NEAR(ac1->expected, 0.1903212, 5e-8);
  auto fleiss = FleissKappa(set, AgreementWeights::kNone);
  ASSERT_TRUE(fleiss.ok());
  EXPECT_NEAR(fleiss->value, 0.76117, 5e-6);
  EXPECT_NEAR(fleiss->expected, 0.2387153, 5e-8);
  // Weighted (irrCAC's unit tests, as ported by afergadis/irrCAC, 3 decimals): AC2 0.859
  // (linear), 0.914 (quadratic); weighted Fleiss 0.818 (linear), 0.865 (quadratic).
  EXPECT_NEAR(Value(GwetAc(set, AgreementWeights::kLinear)), 0.859, 5e-4);
  EXPECT_NEAR(Value(GwetAc(set, AgreementWeights::kQuadratic)), 0.914, 5e-4);
  EXPECT_NEAR(Value(FleissKappa(set, AgreementWeights::kLinear)), 0.818, 5e-4);
  EXPECT_NEAR(Value(FleissKappa(set, AgreementWeights::kQuadratic)), 0.865, 5e-4);
}

TEST(FleissKappa, WikipediaWorkedExample) {
  // Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories;
  // P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
  RatingSet set = FromCounts({{0, 0, 0, 0, 14},
                              {0, 2, 6, 4, 2},
                              {0, 0, 3, 5, 6},
                              {0, 3, 9, 2, 0},
                              {2, 2, 8, 1, 1},
                              {7, 7, 0, 0, 0},
                              {3, 2, 6, 3, 0},
                              {2, 5, 3, 2, 2},
                              {6, 5, 2, 1, 0},
                              {0, 2, 2, 3, 7}},
                             {"1", "2", "3", "4", "5"});
  auto r = FleissKappa(set, AgreementWeights::kNone);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->observed, 0.378, 5e-4);
  EXPECT_NEAR(r->expected, 0.213, 5e-4);
  EXPECT_NEAR(r->value, 0.210, 5e-4);
}

// Fleiss (1971), "Measuring nominal scale agreement among many raters", Psychological
// Bulletin 76(5), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (depression,
// personality disorder, schizophrenia, neurosis, other), as counts per diagnosis. Transcribed in
// JonasMoss/quadagree (data_raw/fleiss1971.csv).
const std::vector<std::vector<int>> kFleiss1971 = {
    {0, 0, 0, 6, 0}, {0, 3, 0, 0, 3}, {0, 1, 4, 0, 1}, {0, 0, 0, 0, 6}, {0, 3, 0, 3, 0},
    {2, 0, 4, 0, 0}, {0, 0, 4, 0, 2}, {2, 0, 3, 1, 0}, {2, 0, 0, 4, 0}, {0, 0, 0, 0, 6},
    {1, 0, 0, 5, 0}, {1, 1, 0, 4, 0}, {0, 3, 3, 0, 0}, {1, 0, 0, 5, 0}, {0, 2, 0, 3, 1},
    {0, 0, 5, 0, 1}, {3, 0, 0, 1, 2}, {5, 1, 0, 0, 0}, {0, 2, 0, 4, 0}, {1, 0, 2, 0, 3},
    {0, 0, 0, 0, 6}, {0, 1, 0, 5, 0}, {0, 2, 0, 1, 3}, {2, 0, 0, 4, 0}, {1, 0, 0, 4, 1},
    {0, 5, 0, 1, 0}, {4, 0, 0, 0, 2}, {0, 2, 0, 4, 0}, {1, 0, 5, 0, 0}, {0, 0, 0, 0, 6}};
const std::vector<std::string> kDiagnoses = {"depression", "personality", "schizophrenia",
                                             "neurosis", "other"};

TEST(FleissKappa, Fleiss1971Table1) {
  // Fleiss reports kappa = .430.
  RatingSet set = FromCounts(kFleiss1971, kDiagnoses);
  EXPECT_NEAR(Value(FleissKappa(set, AgreementWeights::kNone)), 0.430, 5e-4);
}

TEST(GwetAndFleiss, Gwet2014DistributionOfSixRaters) {
  // irrCAC overview vignette, dataset distrib.6raters (the first 15 patients of Fleiss 1971):
  // AC1 0.4448007, Fleiss' kappa 0.4139265, Krippendorff's alpha 0.4204384.
  RatingSet set = FromCounts({kFleiss1971.begin(), kFleiss1971.begin() + 15}, kDiagnoses);
  EXPECT_NEAR(Value(GwetAc(set, AgreementWeights::kNone)), 0.4448007, 5e-8);
  EXPECT_NEAR(Value(FleissKappa(set, AgreementWeights::kNone)), 0.4139265, 5e-8);
  EXPECT_NEAR(Value(KrippendorffAlpha(set, MeasurementLevel::kNominal)), 0.4204384, 5e-8);
}

TEST(CohenKappa, Cohen1960Table1) {
  // Cohen (1960), "A coefficient of agreement for nominal scales", Table 1: 200 cases,
  // p_o = .70, p_c = .41, kappa = .492.
  RatingSet set = FromTable({{88, 14, 18}, {10, 40, 10}, {2, 6, 12}}, {"a", "b", "c"});
  auto r = CohenKappa(set, AgreementWeights::kNone);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->observed, 0.70, 1e-12);
  EXPECT_NEAR(r->expected, 0.41, 1e-12);
  EXPECT_NEAR(r->value, 0.492, 5e-4);
  EXPECT_EQ(r->n_items, 200u);
}

TEST(CohenKappa, WikipediaExamples) {
  // Wikipedia, "Cohen's kappa": 50 grant proposals, yes/yes 20, yes/no 5, no/yes 10,
  // no/no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
  EXPECT_NEAR(
      Value(CohenKappa(FromTable({{20, 5}, {10, 15}}, {"yes", "no"}), AgreementWeights::kNone)),
      0.4, 1e-12);
  // Same page, "similar numbers" examples: kappa = 0.1304 and 0.2593.
  EXPECT_NEAR(
      Value(CohenKappa(FromTable({{45, 15}, {25, 15}}, {"yes", "no"}), AgreementWeights::kNone)),
      0.1304, 5e-5);
  EXPECT_NEAR(
      Value(CohenKappa(FromTable({{25, 35}, {5, 35}}, {"yes", "no"}), AgreementWeights::kNone)),
      0.2593, 5e-5);
}

TEST(CohenKappa, WeightedGwet2014Abstractors) {
  // irrCAC overview vignette, cont3x3abstractors (100 pregnant women, 2 abstractors):
  // Cohen's kappa 0.7964094, Gwet's AC1 0.8493305, Krippendorff's alpha 0.7972585, percent
  // agreement 0.89; weighted kappa (irrCAC unit tests): 0.843 linear, 0.892 quadratic.
  RatingSet set = FromTable({{13, 0, 0}, {0, 20, 7}, {0, 4, 56}}, {"1", "2", "3"});
  EXPECT_NEAR(Value(CohenKappa(set, AgreementWeights::kNone)), 0.7964094, 5e-8);
  EXPECT_NEAR(Value(GwetAc(set, AgreementWeights::kNone)), 0.8493305, 5e-8);
  EXPECT_NEAR(Value(KrippendorffAlpha(set, MeasurementLevel::kNominal)), 0.7972585, 5e-8);
  EXPECT_NEAR(Value(PercentAgreement(set, AgreementWeights::kNone)), 0.89, 1e-12);
  EXPECT_NEAR(Value(CohenKappa(set, AgreementWeights::kLinear)), 0.843, 5e-4);
  EXPECT_NEAR(Value(CohenKappa(set, AgreementWeights::kQuadratic)), 0.892, 5e-4);
}

TEST(Agreement, WeightsFollowCategoryValuesNotRanks) {
  // Categories 1, 2, 10: a 1-vs-2 disagreement is nearly agreement under linear weights by
  // value (w = 1 - 1/9), but would be half agreement by rank.
  RatingSet set = FromTable({{5, 5, 0}, {0, 5, 0}, {0, 0, 5}}, {"1", "2", "10"});
  auto r = CohenKappa(set, AgreementWeights::kLinear);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->observed, (15 + 5 * (1 - 1.0 / 9)) / 20, 1e-12);
}

TEST(Agreement, ErrorsAreClear) {
  RatingSet three = KrippendorffExample();
  auto cohen = CohenKappa(three, AgreementWeights::kNone);
  ASSERT_FALSE(cohen.ok());
  EXPECT_NE(cohen.status().message().find("exactly two raters"), std::string::npos);

  std::vector<Rating> words = {
      {"1", "a", "yes"}, {"1", "b", "no"}, {"2", "a", "no"}, {"2", "b", "no"}};
  auto nominal = RatingSet::FromRatings(words);
  ASSERT_TRUE(nominal.ok());
  EXPECT_FALSE(nominal->numeric());
  EXPECT_TRUE(KrippendorffAlpha(*nominal, MeasurementLevel::kNominal).ok());
  auto interval = KrippendorffAlpha(*nominal, MeasurementLevel::kInterval);
  ASSERT_FALSE(interval.ok());
  EXPECT_NE(interval.status().message().find("not a number"), std::string::npos);
  EXPECT_FALSE(CohenKappa(*nominal, AgreementWeights::kQuadratic).ok());

  auto same = RatingSet::FromRatings(std::vector<Rating>{{"1", "a", "x"}, {"1", "b", "x"}});
  ASSERT_TRUE(same.ok());
  auto undefined = FleissKappa(*same, AgreementWeights::kNone);
  ASSERT_FALSE(undefined.ok());
  EXPECT_NE(undefined.status().message().find("undefined"), std::string::npos);
  EXPECT_FALSE(KrippendorffAlpha(*same, MeasurementLevel::kNominal).ok());

  auto repeated = RatingSet::FromRatings(
      std::vector<Rating>{{"1", "a", "x"}, {"1", "a", "y"}, {"1", "b", "x"}});
  ASSERT_TRUE(repeated.ok());
  auto dup = FleissKappa(*repeated, AgreementWeights::kNone);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("more than once"), std::string::npos);

  AgreementSpec bad{AgreementMetric::kKrippendorff, MeasurementLevel::kNominal,
                    AgreementWeights::kLinear};
  EXPECT_FALSE(ComputeAgreement(three, bad).ok());
}

TEST(Agreement, MatrixAndLabelledInputsAgree) {
  RatingSet matrix = KrippendorffExample();
  std::vector<Rating> ratings;
  for (std::size_t i = 0; i < matrix.n_items(); ++i) {
    for (const auto& r : matrix.ItemRatings(i)) {
      ratings.push_back({"u" + std::to_string(i), "obs" + std::to_string(r.rater),
                         matrix.category_labels()[r.category]});
    }
  }
  auto labelled = RatingSet::FromRatings(ratings);
  ASSERT_TRUE(labelled.ok());
  for (auto level : {MeasurementLevel::kNominal, MeasurementLevel::kOrdinal,
                     MeasurementLevel::kInterval, MeasurementLevel::kRatio}) {
    EXPECT_DOUBLE_EQ(Value(KrippendorffAlpha(matrix, level)),
                     Value(KrippendorffAlpha(*labelled, level)));
  }
}

TEST(CategoryCodes, FastPathEqualsTheRatingSetPath) {
  // Krippendorff (2011)'s example as codes (value - 1, kMissing for NaN): alpha 0.74342 and
  // Fleiss (Gwet's generalisation) 0.76117, as the published values above.
  constexpr std::uint8_t kM = CategoryCodes::kMissing;
  const std::vector<std::uint8_t> example = {
      0,  0,  kM, 0,  //
      1,  1,  2,  1,  //
      2,  2,  2,  2,  //
      2,  2,  2,  2,  //
      1,  1,  1,  1,  //
      0,  1,  2,  3,  //
      3,  3,  3,  3,  //
      0,  0,  1,  0,  //
      1,  1,  1,  1,  //
      kM, 4,  4,  4,  //
      kM, kM, 0,  0,  //
      kM, kM, 2,  kM,  //
  };
  CategoryCodes codes{12, 4, example};
  auto alpha = KrippendorffAlphaNominal(codes);
  ASSERT_TRUE(alpha.ok()) << alpha.status().ToString();
  EXPECT_NEAR(alpha->value, 0.74342, 5e-6);
  EXPECT_EQ(alpha->n_items, 11u);
  EXPECT_EQ(alpha->n_raters, 4u);
  auto fleiss = FleissKappa(codes);
  ASSERT_TRUE(fleiss.ok()) << fleiss.status().ToString();
  EXPECT_NEAR(fleiss->value, 0.76117, 5e-6);
  EXPECT_NEAR(fleiss->expected, 0.2387153, 5e-8);

  // Random ratings with missing values, large enough to take the two-thread path, with 6
  // raters (the unrolled kernel) and 12 (the general one): the code path, the RatingSet
  // overloads and the general algorithm give the same value, observed, expected and counts.
  for (const std::size_t raters : {std::size_t{6}, std::size_t{12}}) {
    SCOPED_TRACE(raters);
    const std::size_t items = 100'000;
    std::mt19937_64 rng(7);
    std::vector<std::uint8_t> random(items * raters);
    std::vector<double> matrix(random.size());
    for (std::size_t i = 0; i < random.size(); ++i) {
      const int v = static_cast<int>(rng() % 7);  // 0..5 categories, 6 missing
      random[i] = v == 6 ? kM : static_cast<std::uint8_t>(v * 3);
      matrix[i] = v == 6 ? kNA : v * 3;
    }
    random[5] = kM;  // rater 5 is missing on item 0 only; item 1 has one rating
    matrix[5] = kNA;
    for (std::size_t r = 1; r < raters; ++r) {
      random[raters + r] = kM;
      matrix[raters + r] = kNA;
    }
    auto set = RatingSet::FromMatrix(items, raters, matrix);
    ASSERT_TRUE(set.ok());
    // The same ratings among 5 times as many raters, the others rating nothing: more than 4
    // cells per rating is too sparse for the code path, so the RatingSet overloads take the
    // general algorithm (raters without ratings change nothing).
    const std::size_t wide_raters = 5 * raters;
    std::vector<double> wide_matrix(items * wide_raters, kNA);
    for (std::size_t i = 0; i < items; ++i) {
      for (std::size_t r = 0; r < raters; ++r) {
        wide_matrix[i * wide_raters + r] = matrix[i * raters + r];
      }
    }
    auto wide = RatingSet::FromMatrix(items, wide_raters, wide_matrix);
    ASSERT_TRUE(wide.ok());
    const CategoryCodes big{items, raters, random};
    for (auto [fast, set_path, general] :
         {std::tuple{KrippendorffAlphaNominal(big),
                     KrippendorffAlpha(*set, MeasurementLevel::kNominal),
                     KrippendorffAlpha(*wide, MeasurementLevel::kNominal)},
          std::tuple{FleissKappa(big), FleissKappa(*set, AgreementWeights::kNone),
                     FleissKappa(*wide, AgreementWeights::kNone)}}) {
      ASSERT_TRUE(fast.ok() && set_path.ok() && general.ok());
      for (const auto* r : {&*fast, &*set_path}) {
        EXPECT_NEAR(r->value, general->value, 1e-12);
        EXPECT_NEAR(r->observed, general->observed, 1e-12);
        EXPECT_NEAR(r->expected, general->expected, 1e-12);
        EXPECT_EQ(r->n_items, general->n_items);
        EXPECT_EQ(r->n_raters, general->n_raters);
      }
    }
  }

  // Errors: a size mismatch; undefined statistics say why.
  EXPECT_FALSE(FleissKappa(CategoryCodes{3, 4, example}).ok());
  const std::vector<std::uint8_t> same = {2, 2, 2, 2};
  EXPECT_FALSE(KrippendorffAlphaNominal(CategoryCodes{2, 2, same}).ok());
  EXPECT_FALSE(FleissKappa(CategoryCodes{2, 2, same}).ok());
  const std::vector<std::uint8_t> lonely = {1, kM, kM, 2};
  EXPECT_FALSE(KrippendorffAlphaNominal(CategoryCodes{2, 2, lonely}).ok());
}

TEST(BootstrapAgreement, SeededPercentileInterval) {
  RatingSet set = KrippendorffExample();
  AgreementSpec spec{AgreementMetric::kKrippendorff, MeasurementLevel::kInterval,
                     AgreementWeights::kNone};
  BootstrapOptions options;
  options.replicates = 500;
  auto a = BootstrapAgreement(set, spec, options);
  auto b = BootstrapAgreement(set, spec, options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->lo, b->lo);  // same seed, same interval
  EXPECT_EQ(a->hi, b->hi);
  EXPECT_LT(a->lo, 0.849);
  EXPECT_GT(a->hi, 0.849);
  EXPECT_LE(a->hi, 1.0);
  EXPECT_GE(a->valid_replicates, 250);
  options.seed = 7;
  auto c = BootstrapAgreement(set, spec, options);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->lo, c->lo);
  options.replicates = 0;
  EXPECT_FALSE(BootstrapAgreement(set, spec, options).ok());
}

TEST(ParseRatingsCsv, HeaderQuotesAndMissing) {
  auto ok = ParseRatingsCsv(
      "\xEF\xBB\xBFitem, rater ,value\r\n1,a,3\r\n\"x,1\",\"b \"\"q\"\"\",\n2,a,4\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 2u);  // the empty value is a missing rating
  EXPECT_EQ((*ok)[1].item, "2");
  EXPECT_EQ((*ok)[1].value, "4");
  auto quoted = ParseRatingsCsv("item,rater,value\n\"x,1\",\"b \"\"q\"\"\",yes\n");
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ((*quoted)[0].item, "x,1");
  EXPECT_EQ((*quoted)[0].rater, "b \"q\"");

  auto header = ParseRatingsCsv("subject,rater,value\n1,a,3\n");
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.status().message().find("header"), std::string::npos);
  auto fields = ParseRatingsCsv("item,rater,value\n1,a,3\n2,a\n");
  ASSERT_FALSE(fields.ok());
  EXPECT_NE(fields.status().message().find("line 3"), std::string::npos);
  EXPECT_FALSE(ParseRatingsCsv("").ok());
  EXPECT_FALSE(ParseRatingsCsv("item,rater,value\n").ok());
  EXPECT_FALSE(ParseRatingsCsv("item,rater,value\n\"1,a,3\n").ok());
}

}  // namespace
}  // namespace caliper::quality
