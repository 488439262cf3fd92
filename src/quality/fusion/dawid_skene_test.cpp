#include "caliper/quality/dawid_skene.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace caliper::quality {
namespace {

// Dawid & Skene (1979), Table 1: 45 patients rated 1-4 (fitness for anaesthesia) by 5
// anaesthetists; observer 1 rated every patient three times. Per patient: observer 1's three
// ratings, then observers 2-5. Transcribed as in dallascard/dawid_skene (generate_sample_data).
constexpr int kAnaesthesia[45][7] = {
    {1, 1, 1, 1, 1, 1, 1}, {3, 3, 3, 4, 3, 3, 4}, {1, 1, 2, 2, 1, 2, 2}, {2, 2, 2, 3, 1, 2, 1},
    {2, 2, 2, 3, 2, 2, 2}, {2, 2, 2, 3, 3, 2, 2}, {1, 2, 2, 2, 1, 1, 1}, {3, 3, 3, 3, 4, 3, 3},
    {2, 2, 2, 2, 2, 2, 3}, {2, 3, 2, 2, 2, 2, 3}, {4, 4, 4, 4, 4, 4, 4}, {2, 2, 2, 3, 3, 4, 3},
    {1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 3, 2, 1, 2}, {1, 2, 1, 1, 1, 1, 1}, {1, 1, 1, 2, 1, 1, 1},
    {1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2, 1}, {2, 2, 2, 1, 3, 2, 2},
    {2, 2, 2, 2, 2, 2, 2}, {2, 2, 2, 2, 2, 2, 1}, {2, 2, 2, 3, 2, 2, 2}, {2, 2, 1, 2, 2, 2, 2},
    {1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}, {2, 3, 2, 2, 2, 2, 2}, {1, 1, 1, 1, 1, 1, 1},
    {1, 1, 1, 1, 1, 1, 1}, {1, 1, 2, 1, 1, 2, 1}, {1, 1, 1, 1, 1, 1, 1}, {3, 3, 3, 3, 2, 3, 3},
    {1, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2, 2}, {2, 2, 2, 3, 2, 3, 2}, {4, 3, 3, 4, 3, 4, 3},
    {2, 2, 1, 2, 2, 3, 2}, {2, 3, 2, 3, 2, 3, 3}, {3, 3, 3, 3, 4, 3, 2}, {1, 1, 1, 1, 1, 1, 1},
    {1, 1, 1, 1, 1, 1, 1}, {1, 2, 1, 2, 1, 1, 1}, {2, 3, 2, 2, 2, 2, 2}, {1, 2, 1, 1, 1, 1, 1},
    {2, 2, 2, 2, 2, 2, 2}};

RatingSet Anaesthesia() {
  std::vector<Rating> ratings;
  for (int p = 0; p < 45; ++p) {
    for (int c = 0; c < 7; ++c) {
      int observer = c < 3 ? 1 : c - 1;
      ratings.push_back({"patient" + std::to_string(p + 1), "obs" + std::to_string(observer),
                         std::to_string(kAnaesthesia[p][c])});
    }
  }
  auto set = RatingSet::FromRatings(ratings);
  EXPECT_TRUE(set.ok());
  return std::move(set).value();
}

TEST(DawidSkene, AnaesthesiaData1979) {
  RatingSet set = Anaesthesia();
  ASSERT_EQ(set.n_ratings(), 315u);
  auto fit = DawidSkene(set);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ASSERT_TRUE(fit->converged);
  // Class marginals: Dawid & Skene (1979) report estimated class probabilities of about
  // 0.40, 0.42, 0.11 and 0.07. The digits below are the EM fixed point from the paper's
  // initialisation, reproduced by an independent NumPy implementation (docs/quality.md).
  const std::vector<double> priors = {0.399555, 0.421983, 0.111795, 0.066667};
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(fit->priors[j], priors[j], 1e-5) << j;
  // Observer 1 (three readings per patient): estimated error-rate matrix, rows = true class.
  const std::vector<double> observer1 = {0.889488, 0.110512, 0,        0,        0.070585, 0.876380,
                                         0.053035, 0,        0,        0.338822, 0.661178, 0,
                                         0,        0,        0.555556, 0.444444};
  for (int x = 0; x < 16; ++x) EXPECT_NEAR(fit->confusion[0][x], observer1[x], 1e-5) << x;
  EXPECT_NEAR(fit->log_likelihood, -192.890881, 1e-5);
  // Patient 38 (index 37) is the one the data leave in doubt between classes 2 and 3.
  EXPECT_NEAR(fit->posteriors[37 * 4 + 1], 0.0212, 5e-4);
  EXPECT_NEAR(fit->posteriors[37 * 4 + 2], 0.9788, 5e-4);
  for (std::size_t i = 0; i < set.n_items(); ++i) {
    double sum = 0;
    for (int j = 0; j < 4; ++j) sum += fit->posteriors[i * 4 + j];
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
}

TEST(DawidSkene, LogLikelihoodNeverDecreases) {
  RatingSet set = Anaesthesia();
  double previous = -INFINITY;
  for (int iterations = 1; iterations <= 20; ++iterations) {
    DawidSkeneOptions options;
    options.max_iterations = iterations;
    options.tolerance = 0;
    auto fit = DawidSkene(set, options);
    ASSERT_TRUE(fit.ok());
    EXPECT_GE(fit->log_likelihood, previous - 1e-9);
    previous = fit->log_likelihood;
  }
}

TEST(DawidSkene, RecoversAKnownBadRater) {
  // Three raters: two always right, one always answers "b". Items are half "a", half "b".
  std::vector<Rating> ratings;
  for (int i = 0; i < 40; ++i) {
    std::string truth = i % 2 ? "b" : "a";
    ratings.push_back({std::to_string(i), "good1", truth});
    ratings.push_back({std::to_string(i), "good2", truth});
    ratings.push_back({std::to_string(i), "stuck", "b"});
  }
  auto set = RatingSet::FromRatings(ratings);
  ASSERT_TRUE(set.ok());
  auto fit = DawidSkene(*set);
  ASSERT_TRUE(fit.ok());
  EXPECT_NEAR(fit->priors[0], 0.5, 1e-9);
  EXPECT_NEAR(fit->confusion[2][0 * 2 + 1], 1.0, 1e-9);  // stuck: true a -> says b
  EXPECT_NEAR(fit->confusion[0][0], 1.0, 1e-9);
  EXPECT_NEAR(fit->posteriors[0 * 2 + 0], 1.0, 1e-9);  // item 0 is "a" despite "stuck"

  // Majority vote is the baseline: 2 of 3 agree on every item here.
  auto vote = MajorityVote(*set);
  EXPECT_EQ(vote.winner[0], 0u);
  EXPECT_NEAR(vote.share[0], 2.0 / 3.0, 1e-12);
  EXPECT_FALSE(vote.tied[0]);

  DawidSkeneOptions smoothed;
  smoothed.pseudo_count = 1;
  auto fit2 = DawidSkene(*set, smoothed);
  ASSERT_TRUE(fit2.ok());
  EXPECT_GT(fit2->confusion[0][1], 0.0);  // smoothing keeps every rate off zero
  EXPECT_LT(fit2->confusion[0][0], 1.0);
}

TEST(MajorityVote, TiesGoToTheLowestCategoryAndAreFlagged) {
  auto set = RatingSet::FromRatings(
      std::vector<Rating>{{"1", "a", "x"}, {"1", "b", "y"}, {"2", "a", "y"}});
  ASSERT_TRUE(set.ok());
  auto vote = MajorityVote(*set);
  EXPECT_EQ(vote.winner[0], 0u);
  EXPECT_TRUE(vote.tied[0]);
  EXPECT_EQ(vote.winner[1], 1u);
  EXPECT_FALSE(vote.tied[1]);
}

TEST(DawidSkene, RejectsBadOptions) {
  RatingSet set = Anaesthesia();
  DawidSkeneOptions bad;
  bad.max_iterations = 0;
  EXPECT_FALSE(DawidSkene(set, bad).ok());
}

}  // namespace
}  // namespace caliper::quality
