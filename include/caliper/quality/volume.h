#pragma once

// A 3D label volume as the mask metrics and STAPLE see it: a borrowed buffer of uint8 voxels
// (x fastest, then y, then z, as NIfTI stores them) on a grid with voxel spacing in mm.
// Binary metrics treat any nonzero voxel as foreground; multi-label STAPLE uses the values.

#include <array>
#include <cstdint>
#include <span>

#include "caliper/common/status.h"

namespace caliper::quality {

struct Grid {
  std::array<std::int64_t, 3> dims{0, 0, 0};
  std::array<double, 3> spacing_mm{1.0, 1.0, 1.0};

  std::int64_t voxel_count() const { return dims[0] * dims[1] * dims[2]; }
};

// Borrows `voxels`; the caller keeps them alive while the view is used.
struct MaskView {
  Grid grid;
  std::span<const std::uint8_t> voxels;
};

// kInvalidArgument unless every dimension is positive, every spacing finite and positive, and
// the buffer holds exactly voxel_count() voxels.
Status ValidateMask(const MaskView& mask);

// kInvalidArgument unless both grids have the same dimensions and spacings equal within a
// relative 1e-6 (the message names what differs).
Status CheckSameGrid(const Grid& a, const Grid& b);

}  // namespace caliper::quality
