#include "caliper/quality/raster.h"

#include <algorithm>
#include <cmath>

namespace caliper::quality {

RegionGrid RegionGridFor(std::int64_t width, std::int64_t height, std::int64_t max_side, double mpp) {
  RegionGrid g;
  const std::int64_t longer = std::max(width, height);
  g.cell = std::max<std::int64_t>(1, (longer + max_side - 1) / std::max<std::int64_t>(1, max_side));
  g.grid.dims = {(width + g.cell - 1) / g.cell, (height + g.cell - 1) / g.cell, 1};
  const double side_mm = mpp > 0 && std::isfinite(mpp) ? static_cast<double>(g.cell) * mpp / 1000.0 : 1.0;
  g.grid.spacing_mm = {side_mm, side_mm, side_mm};
  return g;
}

std::vector<std::uint8_t> RasteriseRegions(const std::vector<const core::Region*>& regions, const RegionGrid& grid) {
  const std::int64_t nx = grid.grid.dims[0], ny = grid.grid.dims[1];
  std::vector<std::uint8_t> out(static_cast<std::size_t>(nx * ny), 0);
  const double cell = static_cast<double>(grid.cell);
  std::vector<double> crossings;
  for (const core::Region* region : regions) {
    if (region->shape == core::RegionShape::kPoint || region->points.size() < 3) continue;
    const auto& p = region->points;
    double y_min = p[0].y, y_max = p[0].y;
    for (const auto& q : p) {
      y_min = std::min(y_min, q.y);
      y_max = std::max(y_max, q.y);
    }
    // Rows whose centre line (y + 0.5) * cell lies within the polygon's vertical extent.
    const std::int64_t row0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(y_min / cell - 0.5)));
    const std::int64_t row1 = std::min<std::int64_t>(ny - 1, static_cast<std::int64_t>(std::ceil(y_max / cell - 0.5)));
    for (std::int64_t row = row0; row <= row1; ++row) {
      const double yc = (static_cast<double>(row) + 0.5) * cell;
      crossings.clear();
      for (std::size_t i = 0; i < p.size(); ++i) {
        const core::RegionPoint& a = p[i];
        const core::RegionPoint& b = p[(i + 1) % p.size()];
        // Half-open rule: an edge counts when the scan line crosses [min y, max y).
        if ((a.y <= yc && b.y > yc) || (b.y <= yc && a.y > yc)) {
          crossings.push_back(a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y));
        }
      }
      std::sort(crossings.begin(), crossings.end());
      for (std::size_t k = 0; k + 1 < crossings.size(); k += 2) {
        // Cells whose centre (col + 0.5) * cell lies in [left, right).
        const std::int64_t c0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(crossings[k] / cell - 0.5)));
        const std::int64_t c1 =
            std::min<std::int64_t>(nx - 1, static_cast<std::int64_t>(std::ceil(crossings[k + 1] / cell - 0.5)) - 1);
        for (std::int64_t col = c0; col <= c1; ++col) out[static_cast<std::size_t>(row * nx + col)] = 1;
      }
    }
  }
  return out;
}

}  // namespace caliper::quality
