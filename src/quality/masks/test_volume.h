#pragma once

// Test helper: an owned uint8 volume that hands out MaskViews.

#include <array>
#include <cstdint>
#include <vector>

#include "caliper/quality/volume.h"

namespace caliper::quality::testing {

struct Volume {
  Grid grid;
  std::vector<std::uint8_t> voxels;

  MaskView view() const { return {grid, voxels}; }
  std::uint8_t& at(std::int64_t x, std::int64_t y, std::int64_t z) {
    return voxels[(z * grid.dims[1] + y) * grid.dims[0] + x];
  }
};

inline Volume Empty(std::array<std::int64_t, 3> dims, std::array<double, 3> spacing = {1, 1, 1}) {
  Volume v;
  v.grid = {dims, spacing};
  v.voxels.assign(dims[0] * dims[1] * dims[2], 0);
  return v;
}

}  // namespace caliper::quality::testing
