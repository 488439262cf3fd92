#pragma once

// Agreement between two binary masks on the same grid (nonzero = foreground): overlap (Dice,
// IoU) and boundary distances (Hausdorff, HD95, ASSD, normalised surface Dice) in mm.
//
// Definitions follow Metrics Reloaded (Maier-Hein et al. 2024) as implemented by MONAI:
//  - a mask's surface is its foreground voxels with at least one 6-connected neighbour in the
//    background; voxels outside the volume count as background;
//  - distances are Euclidean, in mm using the voxel spacing, between voxel centres, from each
//    surface voxel of one mask to the nearest surface voxel of the other (directed distances
//    d(a, B) for a in surface(A) and d(b, A) for b in surface(B));
//  - Hausdorff = max of all directed distances; HD95 = max of the two directed 95th
//    percentiles (linear interpolation between order statistics, numpy's default);
//  - ASSD = mean of all directed distances of both directions pooled;
//  - NSD at tolerance t = (#{d(a, B) <= t} + #{d(b, A) <= t}) / (|surface A| + |surface B|),
//    counting surface voxels (not surface areas); a distance within a relative 1e-6 of t counts
//    as within (distances pass through float between EDT passes).
// Empty masks: both empty -> Dice = IoU = 1, distances 0, NSD 1 (perfect agreement that there
// is nothing); exactly one empty -> Dice = IoU = 0, distances +infinity, NSD 0.
//
// Distances come from an exact Euclidean distance transform (Felzenszwalb & Huttenlocher) over
// the bounding box of both masks: linear time, so 512 x 512 x 300 volumes take about a second.

#include <cstddef>
#include <cstdint>

#include "caliper/common/status.h"
#include "caliper/quality/volume.h"

namespace caliper::quality {

struct OverlapResult {
  double dice = 0;
  double iou = 0;
  std::int64_t a_voxels = 0;
  std::int64_t b_voxels = 0;
  std::int64_t intersection = 0;
};

// Errors: kInvalidArgument for a malformed mask or different grids (shape or spacing).
Result<OverlapResult> MaskOverlap(const MaskView& a, const MaskView& b);

struct SurfaceDistanceResult {
  double hausdorff_mm = 0;
  double hd95_mm = 0;
  double assd_mm = 0;
  double nsd = 0;
  double tolerance_mm = 0;
  std::size_t a_surface_voxels = 0;
  std::size_t b_surface_voxels = 0;
};

// Errors: as MaskOverlap; kInvalidArgument when tolerance_mm is negative or not finite.
Result<SurfaceDistanceResult> SurfaceDistances(const MaskView& a, const MaskView& b,
                                               double tolerance_mm);

}  // namespace caliper::quality
