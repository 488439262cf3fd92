#include "caliper/quality/volume.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace caliper::quality {

Status ValidateMask(const MaskView& mask) {
  for (int d = 0; d < 3; ++d) {
    if (mask.grid.dims[d] <= 0) {
      return Error(ErrorCode::kInvalidArgument, "mask dimensions must be positive");
    }
    const double s = mask.grid.spacing_mm[d];
    if (!std::isfinite(s) || s <= 0) {
      return Error(ErrorCode::kInvalidArgument, "voxel spacing must be finite and positive");
    }
  }
  if (static_cast<std::int64_t>(mask.voxels.size()) != mask.grid.voxel_count()) {
    return Error(ErrorCode::kInvalidArgument, "mask buffer size does not match its dimensions");
  }
  return Status::Ok();
}

Status CheckSameGrid(const Grid& a, const Grid& b) {
  auto text = [](const auto& v) {
    return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
  };
  if (a.dims != b.dims) {
    return Error(ErrorCode::kInvalidArgument,
                 "masks have different shapes: " + text(a.dims) + " and " + text(b.dims));
  }
  for (int d = 0; d < 3; ++d) {
    const double x = a.spacing_mm[d], y = b.spacing_mm[d];
    if (std::abs(x - y) > 1e-6 * std::max(std::abs(x), std::abs(y))) {
      return Error(ErrorCode::kInvalidArgument,
                   "masks have different voxel spacing: " + text(a.spacing_mm) + " mm and " +
                       text(b.spacing_mm) + " mm");
    }
  }
  return Status::Ok();
}

}  // namespace caliper::quality
