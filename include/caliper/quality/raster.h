#pragma once

// Regions drawn on a slide as masks, so the mask metrics and STAPLE can compare readers
// (docs/pathology.md): polygons and rectangles filled on a grid of `cell` level-0 pixels a
// side. A grid cell is inside when its centre is (even-odd rule, as SVG's fill-rule evenodd);
// points have no area and are not drawn.

#include <cstdint>
#include <vector>

#include "caliper/core/regions.h"
#include "caliper/quality/volume.h"

namespace caliper::quality {

// The grid for a slide of width x height level-0 pixels whose longer side is at most
// `max_side` cells: cell = ceil(longer side / max_side) level-0 pixels (1 for small slides),
// dims ceil(width / cell) x ceil(height / cell) x 1, spacing cell * mpp / 1000 mm (mpp
// micrometres per level-0 pixel; 1 mm per cell when unknown, i.e. mpp <= 0).
struct RegionGrid {
  Grid grid;
  std::int64_t cell = 1;  // level-0 pixels per cell side
};
RegionGrid RegionGridFor(std::int64_t width, std::int64_t height, std::int64_t max_side, double mpp);

// 1 in every cell of `grid` that one of `regions` covers, 0 elsewhere (x fastest).
std::vector<std::uint8_t> RasteriseRegions(const std::vector<const core::Region*>& regions, const RegionGrid& grid);

}  // namespace caliper::quality
