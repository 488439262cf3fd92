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

// Dawid & Skene (1979) Table 2 (every observer's estimated error rates) and Table 4 (every
// patient's estimated class), to the two decimals printed there. These are the paper's own
// numbers as two independent public reproductions assert them: kajyuuen/Dawid-skene
// (test_dawid_skene_model.py: the marginals, observer 1 and patients 1-6) and LinX's JUnit
// DawidSkeneAlgorithmTest (package algorithms.dawidskene: observers 1-5 and patients 1-45).
// Same initialisation as the paper (eq. 3.1, response proportions) and no smoothing; the paper
// does not state its stopping rule, but at two decimals the fixed point is reached long before
// ours stops (1e-10 in log-likelihood), so any rounding of ours must equal theirs: |ours -
// published| <= 0.005.
constexpr double kPaperErrorRates[5][16] = {
    {0.89, 0.11, 0.00, 0.00, 0.07, 0.88, 0.05, 0.00, 0.00, 0.34, 0.66, 0.00, 0.00, 0.00, 0.56, 0.44},
    {0.83, 0.17, 0.00, 0.00, 0.05, 0.63, 0.31, 0.00, 0.00, 0.00, 1.00, 0.00, 0.00, 0.00, 0.00, 1.00},
    {1.00, 0.00, 0.00, 0.00, 0.11, 0.79, 0.11, 0.00, 0.00, 0.40, 0.20, 0.40, 0.00, 0.00, 0.67, 0.33},
    {0.94, 0.06, 0.00, 0.00, 0.05, 0.84, 0.10, 0.00, 0.00, 0.00, 0.80, 0.20, 0.00, 0.00, 0.33, 0.67},
    {1.00, 0.00, 0.00, 0.00, 0.16, 0.73, 0.11, 0.00, 0.00, 0.21, 0.79, 0.00, 0.00, 0.00, 0.33, 0.67}};

// Table 4: the estimated class of each patient, 1-4, with probability 1.00 at two decimals
// except the three patients listed in kPaperUncertain.
constexpr int kPaperClass[45] = {1, 4, 2, 2, 2, 2, 1, 3, 2, 2, 4, 3, 1, 2, 1, 1, 1, 1, 2, 2, 2, 2, 2,
                                 2, 1, 1, 2, 1, 1, 1, 1, 3, 1, 2, 2, 4, 2, 3, 3, 1, 1, 1, 2, 1, 2};
struct Uncertain {
  int patient;             // 1-based, as in the paper
  double probability[4];   // classes 1-4
};
constexpr Uncertain kPaperUncertain[] = {{7, {0.98, 0.02, 0.00, 0.00}},
                                         {35, {0.00, 0.95, 0.05, 0.00}},
                                         {38, {0.00, 0.02, 0.98, 0.00}}};

TEST(DawidSkene, AnaesthesiaTablesTwoAndFourOfThePaper) {
  RatingSet set = Anaesthesia();
  auto fit = DawidSkene(set);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  constexpr double kHalfCent = 0.005 + 1e-12;
  const std::vector<double> marginals = {0.40, 0.42, 0.11, 0.07};  // Table 3
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(fit->priors[j], marginals[j], kHalfCent) << j;
  for (int observer = 0; observer < 5; ++observer) {
    ASSERT_EQ(set.RaterName(observer), "obs" + std::to_string(observer + 1));
    for (int x = 0; x < 16; ++x) {
      EXPECT_NEAR(fit->confusion[observer][x], kPaperErrorRates[observer][x], kHalfCent)
          << "observer " << observer + 1 << " true class " << x / 4 + 1 << " answer " << x % 4 + 1;
    }
  }
  for (int p = 0; p < 45; ++p) {
    std::vector<double> expected(4, 0.0);
    expected[kPaperClass[p] - 1] = 1.0;
    for (const auto& u : kPaperUncertain) {
      if (u.patient == p + 1) expected.assign(u.probability, u.probability + 4);
    }
    for (int j = 0; j < 4; ++j) {
      EXPECT_NEAR(fit->posteriors[p * 4 + j], expected[j], kHalfCent)
          << "patient " << p + 1 << " class " << j + 1;
    }
  }
}

// crowd-kit's step-by-step test (Toloka/crowd-kit tests/aggregation/test_ds_aggregation.py,
// test_dawid_skene_step_by_step): five tasks, five workers, one missing answer (t1 by w3),
// with the priors, error matrices and task posteriors after its iterations 0 and 1, printed to
// two decimals and checked there with atol 0.005. crowd-kit initialises like the paper
// (posteriors = each task's answer proportions) and its iteration is E-step then M-step, so its
// state after n_iter = 0 (parameters from the initial proportions) and the posteriors after
// n_iter = 1 are ours after one iteration (M then E), and its parameters after n_iter = 1 are
// ours after two.
TEST(DawidSkene, CrowdKitStepByStep) {
  const char* answers[5][5] = {{"no", "yes", nullptr, "yes", "no"},
                               {"yes", "yes", "yes", "no", "no"},
                               {"yes", "no", "no", "yes", "no"},
                               {"yes", "yes", "yes", "yes", "yes"},
                               {"yes", "no", "no", "no", "no"}};
  std::vector<Rating> ratings;
  for (int t = 0; t < 5; ++t) {
    for (int w = 0; w < 5; ++w) {
      if (answers[t][w] == nullptr) continue;
      ratings.push_back({"t" + std::to_string(t + 1), "w" + std::to_string(w + 1), answers[t][w]});
    }
  }
  auto set = RatingSet::FromRatings(ratings);
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->category_labels(), (std::vector<std::string>{"no", "yes"}));
  std::vector<std::size_t> worker(5);  // worker w (0-based) -> rater index in the set
  for (std::size_t r = 0; r < set->n_raters(); ++r) worker[set->RaterName(r)[1] - '1'] = r;
  constexpr double kTol = 0.005 + 1e-12;

  // crowd-kit's state after its iterations 0 and 1 = ours after 1 and 2. error[w] = {P(no | true
  // no), P(no | true yes), P(yes | true no), P(yes | true yes)}, the order crowd-kit prints them
  // in (rows = observed label, columns = true label).
  struct Step {
    int iterations;
    double priors[2];
    double error[5][4];
  };
  constexpr Step kSteps[] = {
      {1, {0.46, 0.54}, {{0.22, 0.19, 0.78, 0.81}, {0.61, 0.22, 0.39, 0.78}, {0.78, 0.27, 0.22, 0.73},
                         {0.52, 0.30, 0.48, 0.70}, {1.00, 0.63, 0.00, 0.37}}},
      {2, {0.49, 0.51}, {{0.14, 0.25, 0.86, 0.75}, {0.75, 0.07, 0.25, 0.93}, {0.87, 0.09, 0.13, 0.91},
                         {0.50, 0.31, 0.50, 0.69}, {1.00, 0.61, 0.00, 0.39}}}};
  for (const Step& step : kSteps) {
    DawidSkeneOptions options;
    options.max_iterations = step.iterations;
    options.tolerance = 0;
    auto fit = DawidSkene(*set, options);
    ASSERT_TRUE(fit.ok());
    ASSERT_EQ(fit->iterations, step.iterations);
    EXPECT_NEAR(fit->priors[0], step.priors[0], kTol) << step.iterations;
    EXPECT_NEAR(fit->priors[1], step.priors[1], kTol) << step.iterations;
    for (int w = 0; w < 5; ++w) {
      const auto& c = fit->confusion[worker[w]];  // c[true * 2 + answer]
      const double ours[4] = {c[0 * 2 + 0], c[1 * 2 + 0], c[0 * 2 + 1], c[1 * 2 + 1]};
      for (int x = 0; x < 4; ++x) {
        EXPECT_NEAR(ours[x], step.error[w][x], kTol) << "iterations " << step.iterations << " w" << w + 1;
      }
    }
    if (step.iterations != 1) continue;
    // The task posteriors crowd-kit reports after its iteration 1: ours after one.
    const double probas[5][2] = {{0.35, 0.65}, {0.26, 0.74}, {0.87, 0.13}, {0.00, 1.00}, {0.95, 0.05}};
    for (int t = 0; t < 5; ++t) {
      EXPECT_NEAR(fit->posteriors[t * 2 + 0], probas[t][0], kTol) << "t" << t + 1;
      EXPECT_NEAR(fit->posteriors[t * 2 + 1], probas[t][1], kTol) << "t" << t + 1;
    }
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
