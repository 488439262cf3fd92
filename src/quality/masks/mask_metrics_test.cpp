#include "caliper/quality/mask_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "quality/masks/edt.h"
#include "quality/masks/test_volume.h"

namespace caliper::quality {
namespace {

using testing::Empty;
using testing::Volume;

void Box(Volume& v, std::array<std::int64_t, 3> lo, std::array<std::int64_t, 3> hi) {
  for (auto z = lo[2]; z <= hi[2]; ++z) {
    for (auto y = lo[1]; y <= hi[1]; ++y) {
      for (auto x = lo[0]; x <= hi[0]; ++x) v.at(x, y, z) = 1;
    }
  }
}

TEST(DistanceTransform, MatchesBruteForceWithAnisotropicSpacing) {
  std::mt19937 rng(3);
  std::bernoulli_distribution sparse(0.02), half(0.5);
  const std::array<std::int64_t, 3> dims = {13, 9, 7};
  const std::array<double, 3> spacing = {0.7, 1.3, 2.5};
  std::vector<std::uint8_t> features(13 * 9 * 7), query(13 * 9 * 7);
  for (auto& f : features) f = sparse(rng);
  features[5] = 1;
  for (auto& q : query) q = half(rng);
  std::vector<double> fast = internal::DistancesToNearest(dims, spacing, features, query);
  std::vector<double> slow;
  for (std::int64_t i = 0; i < 13 * 9 * 7; ++i) {
    if (!query[i]) continue;
    double best = std::numeric_limits<double>::infinity();
    for (std::int64_t j = 0; j < 13 * 9 * 7; ++j) {
      if (!features[j]) continue;
      const double dx = (i % 13 - j % 13) * spacing[0];
      const double dy = ((i / 13) % 9 - (j / 13) % 9) * spacing[1];
      const double dz = (i / 117 - j / 117) * spacing[2];
      best = std::min(best, std::sqrt(dx * dx + dy * dy + dz * dz));
    }
    slow.push_back(best);
  }
  ASSERT_EQ(fast.size(), slow.size());
  std::sort(fast.begin(), fast.end());
  std::sort(slow.begin(), slow.end());
  for (std::size_t i = 0; i < fast.size(); ++i) EXPECT_NEAR(fast[i], slow[i], 1e-5) << i;
}

TEST(MaskMetrics, OffsetCubesAnisotropic) {
  // Two 10^3 cubes, B shifted by 3 voxels along x, spacing (2, 1, 0.5) mm. Overlap: 7 of 10
  // columns, Dice = 2*700/2000 = 0.7, IoU = 700/1300. Hausdorff: the centre of A's left face
  // is 3 voxels (6 mm) from B's left face and every other surface voxel is nearer.
  Volume a = Empty({30, 30, 30}, {2, 1, 0.5}), b = a;
  Box(a, {10, 10, 10}, {19, 19, 19});
  Box(b, {13, 10, 10}, {22, 19, 19});
  auto overlap = MaskOverlap(a.view(), b.view());
  ASSERT_TRUE(overlap.ok());
  EXPECT_DOUBLE_EQ(overlap->dice, 0.7);
  EXPECT_DOUBLE_EQ(overlap->iou, 700.0 / 1300.0);
  auto s = SurfaceDistances(a.view(), b.view(), 1.0);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->hausdorff_mm, 6.0, 1e-6);
  EXPECT_EQ(s->a_surface_voxels, 1000u - 512u);  // 10^3 minus the 8^3 interior
  EXPECT_LE(s->hd95_mm, s->hausdorff_mm);
  EXPECT_GT(s->nsd, 0.0);
  EXPECT_LT(s->nsd, 1.0);
}

TEST(MaskMetrics, ParallelSlabsEveryDistanceIsTheGap) {
  // Two one-voxel-thick full planes z = 5 and z = 8 with spacing 0.8 x 0.8 x 2.5 mm: every
  // surface voxel is 3 * 2.5 = 7.5 mm from the other plane, so HD = HD95 = ASSD = 7.5 and
  // NSD is 1 at a 7.5 mm tolerance, 0 just below it.
  Volume a = Empty({16, 12, 12}, {0.8, 0.8, 2.5}), b = a;
  Box(a, {0, 0, 5}, {15, 11, 5});
  Box(b, {0, 0, 8}, {15, 11, 8});
  auto s = SurfaceDistances(a.view(), b.view(), 7.5);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->hausdorff_mm, 7.5, 1e-6);
  EXPECT_NEAR(s->hd95_mm, 7.5, 1e-6);
  EXPECT_NEAR(s->assd_mm, 7.5, 1e-6);
  EXPECT_DOUBLE_EQ(s->nsd, 1.0);
  EXPECT_DOUBLE_EQ(SurfaceDistances(a.view(), b.view(), 7.4)->nsd, 0.0);
}

TEST(MaskMetrics, SingleVoxelsAtAKnownOffset) {
  Volume a = Empty({10, 10, 10}, {0.5, 2, 3}), b = a;
  a.at(1, 1, 1) = 1;
  b.at(4, 2, 3) = 1;  // offset (3, 1, 2) voxels = (1.5, 2, 6) mm
  const double d = std::sqrt(1.5 * 1.5 + 2 * 2 + 6 * 6);
  auto s = SurfaceDistances(a.view(), b.view(), 1.0);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->hausdorff_mm, d, 1e-6);
  EXPECT_NEAR(s->hd95_mm, d, 1e-6);
  EXPECT_NEAR(s->assd_mm, d, 1e-6);
  EXPECT_EQ(s->nsd, 0.0);
  EXPECT_EQ(MaskOverlap(a.view(), b.view())->dice, 0.0);
}

TEST(MaskMetrics, Hd95IsTheLargerDirected95thPercentile) {
  // A: a 9 x 9 x 1 plate; B: the same plate plus one voxel sticking out 10 voxels away.
  // B -> A: 81 zeros and one 10; its 95th percentile is 0 (rank 0.95 * 81 = 76.95 < 81).
  // A -> B: all zeros. So HD = 10 but HD95 = 0 — the outlier is forgiven.
  Volume a = Empty({20, 20, 20}), b = a;
  Box(a, {0, 0, 0}, {8, 8, 0});
  Box(b, {0, 0, 0}, {8, 8, 0});
  b.at(4, 4, 10) = 1;
  auto s = SurfaceDistances(a.view(), b.view(), 0.0);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->hausdorff_mm, 10.0, 1e-9);
  EXPECT_NEAR(s->hd95_mm, 0.0, 1e-9);
  EXPECT_NEAR(s->assd_mm, 10.0 / (81 + 82), 1e-9);
  EXPECT_NEAR(s->nsd, (81.0 + 81.0) / (81 + 82), 1e-12);
}

// MONAI's published test vectors for HausdorffDistanceMetric (Project-MONAI/MONAI,
// tests/metrics/test_hausdorff_distance.py; Euclidean, symmetric): two balls in a 99^3 grid made
// the way that test makes them — voxel (i, j, k) is inside when the squared distance of
// (i * s0 - c0, j * s1 - c1, k * s2 - c2) is at most r^2 (the centre in voxels, the coordinates
// in mm, as there) — compared with the spacing as the voxel size. Balls that reach past the grid
// are cut off by it, whose faces are then surface (outside the volume is background, as MONAI's
// erosion with border value 0).
Volume MonaiBall(double radius, std::array<double, 3> centre, std::array<double, 3> spacing = {1, 1, 1}) {
  Volume v = Empty({99, 99, 99}, spacing);
  for (std::int64_t k = 0; k < 99; ++k) {
    for (std::int64_t j = 0; j < 99; ++j) {
      for (std::int64_t i = 0; i < 99; ++i) {
        const double x = static_cast<double>(i) * spacing[0] - centre[0];
        const double y = static_cast<double>(j) * spacing[1] - centre[1];
        const double z = static_cast<double>(k) * spacing[2] - centre[2];
        v.at(i, j, k) = x * x + y * y + z * z <= radius * radius ? 1 : 0;
      }
    }
  }
  return v;
}

TEST(MaskMetrics, MonaiPublishedSurfaceDistanceVectors) {
  // Hausdorff and HD95 from test_hausdorff_distance.py (Euclidean, not directed), ASSD from
  // test_surface_distance.py (SurfaceDistanceMetric, Euclidean, symmetric: the mean over both
  // directions' distances pooled, as ours). kNone where that file has no such case.
  const std::array<double, 3> s{0.85, 1.2, 0.9};
  const double kNone = -1;
  struct Case {
    const char* what;
    Volume a, b;
    double hd, hd95, assd;
    double tolerance;  // relative; MONAI computes in float32 and publishes 4 to 17 digits
  };
  const Case cases[] = {
      {"identical balls", MonaiBall(20, {49, 49, 49}), MonaiBall(20, {49, 49, 49}), 0, kNone, 0, 1e-12},
      {"r20 shifted by (1,1,1)", MonaiBall(20, {20, 20, 20}), MonaiBall(20, {19, 19, 19}), 1.7320508075688772, kNone,
       kNone, 1e-12},
      {"r33 cut by the grid, shifted by 1", MonaiBall(33, {19, 33, 22}), MonaiBall(33, {20, 33, 22}), 1, kNone,
       0.350217, 1e-5},
      {"r20 inside r40", MonaiBall(20, {20, 33, 22}), MonaiBall(40, {20, 33, 22}), 20.223748416156685,
       20.09975124224178, 15.117741, 1e-6},
      {"r20 shifted, spacing 0.85 x 1.2 x 0.9", MonaiBall(20, {20, 20, 20}, s), MonaiBall(20, {19, 19, 19}, s),
       2.2671568, kNone, kNone, 1e-6},
      {"r15 inside r30, spacing 0.85 x 1.2 x 0.9", MonaiBall(15, {20, 33, 22}, s), MonaiBall(30, {20, 33, 22}, s),
       15.62594, kNone, kNone, 1e-6},
      {"r33 shifted by 1, spacing 0.85 x 1.2 x 0.9", MonaiBall(33, {42, 45, 52}, s), MonaiBall(33, {43, 45, 52}, s),
       kNone, kNone, 0.4951, 1e-4},
  };
  for (const auto& c : cases) {
    auto d = SurfaceDistances(c.a.view(), c.b.view(), 1.0);
    ASSERT_TRUE(d.ok()) << c.what << ": " << d.status().ToString();
    for (auto [ours, theirs, name] : {std::tuple{d->hausdorff_mm, c.hd, "Hausdorff"},
                                      std::tuple{d->hd95_mm, c.hd95, "HD95"}, std::tuple{d->assd_mm, c.assd, "ASSD"}}) {
      if (theirs == kNone) continue;
      EXPECT_NEAR(ours, theirs, c.tolerance * std::max(1.0, theirs)) << c.what << ": " << name;
    }
  }
}

TEST(MaskMetrics, EmptyMasks) {
  Volume empty = Empty({8, 8, 8}), full = empty;
  Box(full, {2, 2, 2}, {4, 4, 4});
  auto both = SurfaceDistances(empty.view(), empty.view(), 1.0);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->hausdorff_mm, 0.0);
  EXPECT_EQ(both->hd95_mm, 0.0);
  EXPECT_EQ(both->assd_mm, 0.0);
  EXPECT_EQ(both->nsd, 1.0);
  EXPECT_EQ(MaskOverlap(empty.view(), empty.view())->dice, 1.0);
  EXPECT_EQ(MaskOverlap(empty.view(), empty.view())->iou, 1.0);

  for (auto [x, y] : {std::pair{&empty, &full}, std::pair{&full, &empty}}) {
    auto one = SurfaceDistances(x->view(), y->view(), 1.0);
    ASSERT_TRUE(one.ok());
    EXPECT_TRUE(std::isinf(one->hausdorff_mm));
    EXPECT_TRUE(std::isinf(one->hd95_mm));
    EXPECT_TRUE(std::isinf(one->assd_mm));
    EXPECT_EQ(one->nsd, 0.0);
    EXPECT_EQ(MaskOverlap(x->view(), y->view())->dice, 0.0);
  }
}

TEST(MaskMetrics, RejectsMismatchedGrids) {
  Volume a = Empty({8, 8, 8}), b = Empty({8, 8, 9}), c = Empty({8, 8, 8}, {1, 1, 2});
  auto shape = MaskOverlap(a.view(), b.view());
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.status().message().find("shape"), std::string::npos);
  auto spacing = SurfaceDistances(a.view(), c.view(), 1.0);
  ASSERT_FALSE(spacing.ok());
  EXPECT_NE(spacing.status().message().find("spacing"), std::string::npos);
  EXPECT_FALSE(SurfaceDistances(a.view(), a.view(), -1.0).ok());
  MaskView truncated{a.grid, std::span<const std::uint8_t>(a.voxels).first(10)};
  EXPECT_FALSE(MaskOverlap(truncated, a.view()).ok());
}

}  // namespace
}  // namespace caliper::quality
