#include "caliper/quality/raster.h"

#include <gtest/gtest.h>

#include <numeric>

#include "caliper/quality/mask_metrics.h"

namespace caliper::quality {
namespace {

core::Region Rectangle(double x, double y, double w, double h) {
  core::Region r;
  r.shape = core::RegionShape::kRectangle;
  r.points = {{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}};
  return r;
}

std::int64_t Count(const std::vector<std::uint8_t>& mask) {
  return std::accumulate(mask.begin(), mask.end(), std::int64_t{0});
}

TEST(RasterTest, GridKeepsTheLongerSideWithinTheLimit) {
  const RegionGrid small = RegionGridFor(1000, 500, 2048, 0.5);
  EXPECT_EQ(small.cell, 1);
  EXPECT_EQ(small.grid.dims, (std::array<std::int64_t, 3>{1000, 500, 1}));
  EXPECT_DOUBLE_EQ(small.grid.spacing_mm[0], 0.0005);
  const RegionGrid big = RegionGridFor(100000, 40000, 2048, 0.25);
  EXPECT_EQ(big.cell, 49);  // ceil(100000 / 2048)
  EXPECT_EQ(big.grid.dims, (std::array<std::int64_t, 3>{2041, 817, 1}));
  EXPECT_DOUBLE_EQ(big.grid.spacing_mm[0], 49 * 0.25 / 1000);
  EXPECT_DOUBLE_EQ(RegionGridFor(10, 10, 2048, 0).grid.spacing_mm[0], 1.0);
}

TEST(RasterTest, RectanglesAndTrianglesCoverTheCellsWhoseCentresTheyHold) {
  const RegionGrid g = RegionGridFor(100, 100, 2048, 1);
  // A 10 x 20 rectangle on pixel edges covers exactly 200 cells.
  core::Region rect = Rectangle(10, 30, 10, 20);
  auto mask = RasteriseRegions({&rect}, g);
  EXPECT_EQ(Count(mask), 200);
  EXPECT_EQ(mask[30 * 100 + 10], 1);
  EXPECT_EQ(mask[49 * 100 + 19], 1);
  EXPECT_EQ(mask[50 * 100 + 19], 0);
  EXPECT_EQ(mask[30 * 100 + 20], 0);
  // The right triangle (0,0) (40,0) (0,40): row y holds the cells with x + 0.5 < 40 - (y + 0.5),
  // i.e. 39 - y cells, so 39 + 38 + ... + 0 = 780 in all.
  core::Region tri;
  tri.points = {{0, 0}, {40, 0}, {0, 40}};
  EXPECT_EQ(Count(RasteriseRegions({&tri}, g)), 780);
  // Two overlapping rectangles are their union; a point draws nothing.
  core::Region other = Rectangle(15, 30, 10, 20);
  core::Region point;
  point.shape = core::RegionShape::kPoint;
  point.points = {{5, 5}};
  EXPECT_EQ(Count(RasteriseRegions({&rect, &other, &point}, g)), 15 * 20);
}

TEST(RasterTest, CoarseCellsAndTheDiceOfTwoRectangles) {
  // Cells of 10 pixels: a 100 x 100 rectangle at (0, 0) is 10 x 10 cells; one shifted by 50
  // pixels overlaps half of it: Dice = 2 * 50 / (100 + 100) = 0.5, IoU = 50 / 150.
  const RegionGrid g = RegionGridFor(20480, 1000, 2048, 0.5);
  ASSERT_EQ(g.cell, 10);
  core::Region a = Rectangle(0, 0, 100, 100), b = Rectangle(50, 0, 100, 100);
  auto ma = RasteriseRegions({&a}, g), mb = RasteriseRegions({&b}, g);
  EXPECT_EQ(Count(ma), 100);
  EXPECT_EQ(Count(mb), 100);
  auto overlap = MaskOverlap({g.grid, ma}, {g.grid, mb});
  ASSERT_TRUE(overlap.ok()) << overlap.status().ToString();
  EXPECT_DOUBLE_EQ(overlap->dice, 0.5);
  EXPECT_DOUBLE_EQ(overlap->iou, 50.0 / 150.0);
}

}  // namespace
}  // namespace caliper::quality
