#include "caliper/quality/staple.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "quality/masks/test_volume.h"

namespace caliper::quality {
namespace {

using testing::Volume;

Volume Empty(std::int64_t nx, std::int64_t ny, std::int64_t nz) {
  return testing::Empty({nx, ny, nz});
}

// The textbook per-voxel STAPLE (Warfield 2004 eqs. for binary data), iterating over every
// voxel, with the same initialisation and stopping rule: the reference the pattern-histogram
// implementation must match.
struct Direct {
  std::vector<double> p, q, w;
  double prior = 0;
};

Direct DirectStaple(const std::vector<Volume>& raters, double tolerance) {
  const std::size_t n = raters[0].voxels.size(), R = raters.size();
  Direct d;
  d.w.assign(n, 0.0);
  for (const auto& r : raters) {
    for (std::size_t i = 0; i < n; ++i) d.w[i] += (r.voxels[i] != 0) / double(R);
  }
  for (double x : d.w) d.prior += x / n;
  d.p.assign(R, 0.0);
  d.q.assign(R, 0.0);
  std::vector<double> last_p(R, -1), last_q(R, -1);
  for (int iter = 0; iter < 10000; ++iter) {
    for (std::size_t r = 0; r < R; ++r) {
      double pn = 0, pd = 0, qn = 0, qd = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const bool on = raters[r].voxels[i] != 0;
        pn += on ? d.w[i] : 0;
        qn += on ? 0 : 1 - d.w[i];
        pd += d.w[i];
        qd += 1 - d.w[i];
      }
      d.p[r] = pn / pd;
      d.q[r] = qn / qd;
    }
    for (std::size_t i = 0; i < n; ++i) {
      double a = d.prior, b = 1 - d.prior;
      for (std::size_t r = 0; r < R; ++r) {
        const bool on = raters[r].voxels[i] != 0;
        a *= on ? d.p[r] : 1 - d.p[r];
        b *= on ? 1 - d.q[r] : d.q[r];
      }
      d.w[i] = a / (a + b);
    }
    double change = 0;
    for (std::size_t r = 0; r < R; ++r) {
      change = std::max({change, std::abs(d.p[r] - last_p[r]), std::abs(d.q[r] - last_q[r])});
    }
    last_p = d.p;
    last_q = d.q;
    if (iter > 0 && change <= tolerance) break;
  }
  return d;
}

std::vector<MaskView> Views(const std::vector<Volume>& volumes) {
  std::vector<MaskView> views;
  for (const auto& v : volumes) views.push_back(v.view());
  return views;
}

TEST(StapleBinary, MatchesThePerVoxelAlgorithm) {
  // Five noisy raters of a sphere, each with its own error rates.
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  const int n = 24;
  std::vector<Volume> raters(5, Empty(n, n, n));
  const double fn[5] = {0.05, 0.1, 0.2, 0.02, 0.3}, fp[5] = {0.01, 0.02, 0.05, 0.1, 0.01};
  for (int z = 0; z < n; ++z) {
    for (int y = 0; y < n; ++y) {
      for (int x = 0; x < n; ++x) {
        const bool truth = (x - 12) * (x - 12) + (y - 12) * (y - 12) + (z - 12) * (z - 12) < 64;
        for (int r = 0; r < 5; ++r) {
          raters[r].voxels[(z * n + y) * n + x] = truth ? u(rng) > fn[r] : u(rng) < fp[r];
        }
      }
    }
  }
  auto views = Views(raters);
  auto fast = StapleBinary(views);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_TRUE(fast->converged);
  EXPECT_LE(fast->distinct_patterns, 32u);
  Direct direct = DirectStaple(raters, 1e-10);
  EXPECT_NEAR(fast->prior, direct.prior, 1e-12);
  for (int r = 0; r < 5; ++r) {
    EXPECT_NEAR(fast->sensitivity[r], direct.p[r], 1e-8) << r;
    EXPECT_NEAR(fast->specificity[r], direct.q[r], 1e-8) << r;
  }
  double worst = 0;
  for (std::size_t i = 0; i < direct.w.size(); ++i) {
    worst = std::max(worst, std::abs(fast->consensus[i] - direct.w[i]));
  }
  EXPECT_LT(worst, 1e-6);  // float output
  // The estimates are near the simulated rates.
  for (int r = 0; r < 5; ++r) {
    EXPECT_NEAR(fast->sensitivity[r], 1 - fn[r], 0.06) << r;
    EXPECT_NEAR(fast->specificity[r], 1 - fp[r], 0.02) << r;
  }
}

TEST(StapleBinary, LargeVolumesSplitOverTwoThreadsGiveTheSameFixedPoint) {
  // 80 copies of a 24^3 case stacked along z (1,105,920 voxels: above the two-thread threshold)
  // scale every pattern count by 80, so the fixed point is the single copy's, and each copy's
  // consensus is the single copy's consensus.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const int n = 24, copies = 80;
  std::vector<Volume> small(4, Empty(n, n, n)), big(4, Empty(n, n, n * copies));
  for (int r = 0; r < 4; ++r) {
    for (int z = 0; z < n; ++z) {
      for (int y = 0; y < n; ++y) {
        for (int x = 0; x < n; ++x) {
          const bool truth = (x - 11) * (x - 11) + (y - 12) * (y - 12) + (z - 13) * (z - 13) < 50;
          small[r].voxels[(z * n + y) * n + x] = truth ? u(rng) > 0.1 * r : u(rng) < 0.02 * r;
        }
      }
    }
    for (int c = 0; c < copies; ++c) {
      std::copy(small[r].voxels.begin(), small[r].voxels.end(),
                big[r].voxels.begin() + c * n * n * n);
    }
  }
  auto one = StapleBinary(Views(small));
  auto many = StapleBinary(Views(big));
  ASSERT_TRUE(one.ok() && many.ok());
  EXPECT_EQ(one->distinct_patterns, many->distinct_patterns);
  EXPECT_NEAR(one->prior, many->prior, 1e-12);
  for (int r = 0; r < 4; ++r) {
    EXPECT_NEAR(one->sensitivity[r], many->sensitivity[r], 1e-9) << r;
    EXPECT_NEAR(one->specificity[r], many->specificity[r], 1e-9) << r;
  }
  ASSERT_EQ(many->consensus.size(), std::size_t{n} * n * n * copies);
  for (std::size_t i = 0; i < many->consensus.size(); ++i) {
    ASSERT_NEAR(many->consensus[i], one->consensus[i % one->consensus.size()], 1e-6) << i;
  }
}

TEST(StapleBinary, AnalyticFixedPointWithOneOverSegmentingRater) {
  // Raters 1 and 2 draw the same cube S; rater 3 draws S plus a disjoint block F of false
  // positives. The fixed point is exact: p = (1, 1, 1), q = (1, 1, 1 - |F| / (N - |S|)),
  // W = 1 on S and 0 elsewhere (F included), because rater 1's q = 1 rules F out.
  Volume a = Empty(20, 20, 20);
  for (int z = 2; z < 8; ++z) {
    for (int y = 2; y < 8; ++y) {
      for (int x = 2; x < 8; ++x) a.voxels[(z * 20 + y) * 20 + x] = 1;  // |S| = 216
    }
  }
  Volume c = a;
  for (int z = 12; z < 16; ++z) {
    for (int y = 12; y < 16; ++y) {
      for (int x = 12; x < 14; ++x) c.voxels[(z * 20 + y) * 20 + x] = 1;  // |F| = 32
    }
  }
  std::vector<Volume> raters = {a, a, c};
  auto views = Views(raters);
  auto fit = StapleBinary(views);
  ASSERT_TRUE(fit.ok());
  EXPECT_NEAR(fit->prior, (216 * 3 + 32) / 3.0 / 8000.0, 1e-12);
  for (int r = 0; r < 3; ++r) EXPECT_NEAR(fit->sensitivity[r], 1.0, 1e-9);
  EXPECT_NEAR(fit->specificity[0], 1.0, 1e-9);
  EXPECT_NEAR(fit->specificity[2], 1.0 - 32.0 / (8000 - 216), 1e-9);
  EXPECT_NEAR(fit->consensus[(3 * 20 + 3) * 20 + 3], 1.0, 1e-6);
  EXPECT_NEAR(fit->consensus[(13 * 20 + 13) * 20 + 12], 0.0, 1e-6);
  EXPECT_NEAR(fit->consensus[0], 0.0, 1e-6);
}

// fepegar/staple (the `staple` package on PyPI), tests/test_synthetic.py and test_staple.py,
// test_staple_small: six raters of eight voxels, with the consensus published as exactly
// (0, 0, 0, 0, 1, 1, 1, 1) (np.testing.assert_equal). That implementation starts as ours and
// ITK's do (maximization first, from W = the raters' mean; the prior is the mean of all
// decisions, fixed) and stops when the sum of W stops changing; ours stops when no p or q moves
// by more than 1e-10. Here EM reaches the published fixed point exactly: rater 2 drew the
// consensus itself, so its p = q = 1 make every W 0 or 1, and each rater's p and q are then
// their counts against it (rater 1 marks 2 of the 4 foreground voxels: p = 0.5).
TEST(StapleBinary, PublishedSmallVectorOfTheStaplePackage) {
  const std::uint8_t decisions[6][8] = {{0, 0, 0, 0, 0, 1, 1, 0}, {0, 0, 0, 0, 1, 1, 1, 1},
                                        {1, 1, 1, 0, 1, 1, 1, 1}, {0, 0, 0, 0, 1, 1, 1, 0},
                                        {0, 1, 0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 0, 0, 1, 1}};
  std::vector<Volume> raters(6, Empty(8, 1, 1));
  for (int r = 0; r < 6; ++r) raters[r].voxels.assign(decisions[r], decisions[r] + 8);
  const auto views = Views(raters);
  auto fit = StapleBinary(views);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ASSERT_TRUE(fit->converged);
  // Ours stops a hair before the package's exact 0 and 1 (rater 2's p and q are 1 - 1e-11, so
  // background W is about 1e-28 instead of 0): equal to 1e-12, p and q to the stopping rule.
  const float published[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  ASSERT_EQ(fit->consensus.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(fit->consensus[i], published[i], 1e-12) << i;
  EXPECT_DOUBLE_EQ(fit->prior, 0.5);  // 24 of 48 decisions are foreground
  const std::vector<double> p = {0.5, 1, 1, 0.75, 0.75, 0.5}, q = {1, 1, 0.25, 1, 0.75, 0.5};
  for (int r = 0; r < 6; ++r) {
    EXPECT_NEAR(fit->sensitivity[r], p[r], 1e-9) << r;
    EXPECT_NEAR(fit->specificity[r], q[r], 1e-9) << r;
  }
}

TEST(StapleBinary, RejectsBadInput) {
  Volume a = Empty(4, 4, 4), b = Empty(4, 4, 5);
  std::vector<MaskView> one = {a.view()};
  EXPECT_FALSE(StapleBinary(one).ok());
  std::vector<MaskView> shapes = {a.view(), b.view()};
  auto r = StapleBinary(shapes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("shape"), std::string::npos);
  std::vector<MaskView> empty = {a.view(), a.view()};
  auto e = StapleBinary(empty);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("empty"), std::string::npos);
  Volume spaced = Empty(4, 4, 4);
  spaced.grid.spacing_mm = {1, 1, 2};
  spaced.voxels[3] = 1;
  std::vector<MaskView> spacing = {a.view(), spaced.view()};
  EXPECT_FALSE(StapleBinary(spacing).ok());
}

TEST(StapleMultiLabel, BinaryIsTheTwoLabelCase) {
  std::mt19937 rng(7);
  std::bernoulli_distribution coin(0.3);
  std::vector<Volume> raters(3, Empty(10, 10, 10));
  for (auto& r : raters) {
    for (auto& v : r.voxels) v = coin(rng);
  }
  auto views = Views(raters);
  auto binary = StapleBinary(views);
  auto multi = StapleMultiLabel(views);
  ASSERT_TRUE(binary.ok());
  ASSERT_TRUE(multi.ok());
  ASSERT_EQ(multi->labels, (std::vector<std::uint8_t>{0, 1}));
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(multi->confusion[r][3], binary->sensitivity[r], 1e-12);
    EXPECT_NEAR(multi->confusion[r][0], binary->specificity[r], 1e-12);
  }
  for (std::size_t i = 0; i < binary->consensus.size(); ++i) {
    if (std::abs(binary->consensus[i] - 0.5f) < 1e-6) continue;
    EXPECT_EQ(multi->consensus[i], binary->consensus[i] > 0.5f ? 1 : 0);
  }
}

// The multi-category code on the staple package's published vector above, its foreground
// written as label 3 (any value names a category): the published consensus, each rater's
// confusion the p and q of the binary fit, the priors the decisions' shares.
TEST(StapleMultiLabel, PublishedSmallVectorOfTheStaplePackage) {
  const std::uint8_t decisions[6][8] = {{0, 0, 0, 0, 0, 1, 1, 0}, {0, 0, 0, 0, 1, 1, 1, 1},
                                        {1, 1, 1, 0, 1, 1, 1, 1}, {0, 0, 0, 0, 1, 1, 1, 0},
                                        {0, 1, 0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 0, 0, 1, 1}};
  std::vector<Volume> raters(6, Empty(8, 1, 1));
  for (int r = 0; r < 6; ++r) {
    for (int i = 0; i < 8; ++i) raters[r].voxels[i] = decisions[r][i] ? 3 : 0;
  }
  const auto views = Views(raters);
  auto fit = StapleMultiLabel(views);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ASSERT_TRUE(fit->converged);
  ASSERT_EQ(fit->labels, (std::vector<std::uint8_t>{0, 3}));
  const std::vector<std::uint8_t> published = {0, 0, 0, 0, 3, 3, 3, 3};
  EXPECT_EQ(fit->consensus, published);
  for (float c : fit->confidence) EXPECT_NEAR(c, 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(fit->priors[0], 0.5);
  EXPECT_DOUBLE_EQ(fit->priors[1], 0.5);
  const std::vector<double> p = {0.5, 1, 1, 0.75, 0.75, 0.5}, q = {1, 1, 0.25, 1, 0.75, 0.5};
  for (int r = 0; r < 6; ++r) {
    EXPECT_NEAR(fit->confusion[r][1 * 2 + 1], p[r], 1e-9) << r;  // truth 3, says 3
    EXPECT_NEAR(fit->confusion[r][0 * 2 + 0], q[r], 1e-9) << r;  // truth 0, says 0
  }
}

TEST(StapleMultiLabel, ThreeLabelsWithAConfusedRater) {
  // Truth: labels 0, 2 and 7 in three slabs. Raters 1-3 are right; rater 4 calls every 7 a 2.
  Volume truth = Empty(12, 12, 12);
  for (int i = 0; i < 12 * 12 * 12; ++i) {
    const int z = i / 144;
    truth.voxels[i] = z < 4 ? 0 : (z < 8 ? 2 : 7);
  }
  Volume confused = truth;
  for (auto& v : confused.voxels) {
    if (v == 7) v = 2;
  }
  std::vector<Volume> raters = {truth, truth, truth, confused};
  auto views = Views(raters);
  auto fit = StapleMultiLabel(views);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ASSERT_EQ(fit->labels, (std::vector<std::uint8_t>{0, 2, 7}));
  EXPECT_NEAR(fit->confusion[3][2 * 3 + 1], 1.0, 1e-9);  // rater 4: truth 7 -> says 2
  EXPECT_NEAR(fit->confusion[0][2 * 3 + 2], 1.0, 1e-9);
  EXPECT_EQ(fit->consensus, truth.voxels);
  EXPECT_NEAR(fit->confidence[11 * 144], 1.0, 1e-6);
}

}  // namespace
}  // namespace caliper::quality
