#include "caliper/quality/mask_metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "quality/masks/edt.h"

namespace caliper::quality {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Status CheckPair(const MaskView& a, const MaskView& b) {
  CALIPER_RETURN_IF_ERROR(ValidateMask(a));
  CALIPER_RETURN_IF_ERROR(ValidateMask(b));
  return CheckSameGrid(a.grid, b.grid);
}

struct Box {
  std::array<std::int64_t, 3> lo{0, 0, 0}, hi{-1, -1, -1};  // inclusive; empty when hi < lo
  bool empty() const { return hi[0] < lo[0]; }
  std::array<std::int64_t, 3> dims() const {
    return {hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
  }
};

// Bounding box of the foreground of either mask.
Box UnionBox(const MaskView& a, const MaskView& b) {
  const auto& n = a.grid.dims;
  Box box;
  box.lo = {n[0], n[1], n[2]};
  box.hi = {-1, -1, -1};
  std::int64_t i = 0;
  for (std::int64_t z = 0; z < n[2]; ++z) {
    for (std::int64_t y = 0; y < n[1]; ++y) {
      const std::uint8_t* ra = a.voxels.data() + i;
      const std::uint8_t* rb = b.voxels.data() + i;
      i += n[0];
      std::int64_t first = -1, last = -1;
      for (std::int64_t x = 0; x < n[0]; ++x) {
        if (ra[x] | rb[x]) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first < 0) continue;
      box.lo = {std::min(box.lo[0], first), std::min(box.lo[1], y), std::min(box.lo[2], z)};
      box.hi = {std::max(box.hi[0], last), std::max(box.hi[1], y), std::max(box.hi[2], z)};
    }
  }
  if (box.hi[0] < 0) box = Box{};
  return box;
}

// The surface of `mask` inside `box` (box-local, x fastest): foreground voxels with a
// 6-neighbour in the background or outside the box (the box holds all foreground, so outside
// it is background).
std::vector<std::uint8_t> Surface(const MaskView& mask, const Box& box) {
  const auto& n = mask.grid.dims;
  const auto d = box.dims();
  std::vector<std::uint8_t> inside(d[0] * d[1] * d[2]);
  for (std::int64_t z = 0; z < d[2]; ++z) {
    for (std::int64_t y = 0; y < d[1]; ++y) {
      const std::uint8_t* src =
          mask.voxels.data() + ((box.lo[2] + z) * n[1] + box.lo[1] + y) * n[0] + box.lo[0];
      std::uint8_t* dst = inside.data() + (z * d[1] + y) * d[0];
      for (std::int64_t x = 0; x < d[0]; ++x) dst[x] = src[x] != 0;
    }
  }
  std::vector<std::uint8_t> surface(inside.size(), 0);
  auto at = [&](std::int64_t x, std::int64_t y, std::int64_t z) -> std::uint8_t {
    if (x < 0 || y < 0 || z < 0 || x >= d[0] || y >= d[1] || z >= d[2]) return 0;
    return inside[(z * d[1] + y) * d[0] + x];
  };
  for (std::int64_t z = 0; z < d[2]; ++z) {
    for (std::int64_t y = 0; y < d[1]; ++y) {
      for (std::int64_t x = 0; x < d[0]; ++x) {
        const std::int64_t i = (z * d[1] + y) * d[0] + x;
        if (!inside[i]) continue;
        surface[i] = !(at(x - 1, y, z) && at(x + 1, y, z) && at(x, y - 1, z) && at(x, y + 1, z) &&
                       at(x, y, z - 1) && at(x, y, z + 1));
      }
    }
  }
  return surface;
}

// Percentile with linear interpolation between order statistics (numpy.percentile default).
double Percentile(std::vector<double> values, double percent) {
  const double h = percent / 100.0 * (values.size() - 1.0);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  std::nth_element(values.begin(), values.begin() + lo, values.end());
  const double below = values[lo];
  if (lo + 1 >= values.size()) return below;
  const double above = *std::min_element(values.begin() + lo + 1, values.end());
  return below + (h - lo) * (above - below);
}

}  // namespace

Result<OverlapResult> MaskOverlap(const MaskView& a, const MaskView& b) {
  CALIPER_RETURN_IF_ERROR(CheckPair(a, b));
  OverlapResult r;
  const std::size_t n = a.voxels.size();
  for (std::size_t i = 0; i < n; ++i) {
    const bool x = a.voxels[i] != 0, y = b.voxels[i] != 0;
    r.a_voxels += x;
    r.b_voxels += y;
    r.intersection += x & y;
  }
  const std::int64_t both = r.a_voxels + r.b_voxels;
  if (both == 0) {
    r.dice = r.iou = 1.0;  // both empty: they agree there is nothing
    return r;
  }
  r.dice = 2.0 * r.intersection / both;
  r.iou = static_cast<double>(r.intersection) / (both - r.intersection);
  return r;
}

Result<SurfaceDistanceResult> SurfaceDistances(const MaskView& a, const MaskView& b,
                                               double tolerance_mm) {
  CALIPER_RETURN_IF_ERROR(CheckPair(a, b));
  if (!std::isfinite(tolerance_mm) || tolerance_mm < 0) {
    return Error(ErrorCode::kInvalidArgument, "tolerance must be a finite, non-negative mm value");
  }
  SurfaceDistanceResult r;
  r.tolerance_mm = tolerance_mm;
  const Box box = UnionBox(a, b);
  if (box.empty()) {
    r.nsd = 1.0;
    return r;
  }
  const auto sa = Surface(a, box), sb = Surface(b, box);
  r.a_surface_voxels = std::count(sa.begin(), sa.end(), 1);
  r.b_surface_voxels = std::count(sb.begin(), sb.end(), 1);
  if (r.a_surface_voxels == 0 || r.b_surface_voxels == 0) {
    r.hausdorff_mm = r.hd95_mm = r.assd_mm = kInf;
    r.nsd = 0.0;
    return r;
  }
  const auto dims = box.dims();
  const std::vector<double> a_to_b = internal::DistancesToNearest(dims, a.grid.spacing_mm, sb, sa);
  const std::vector<double> b_to_a = internal::DistancesToNearest(dims, a.grid.spacing_mm, sa, sb);
  double sum = 0, within = 0, worst = 0;
  const double limit = tolerance_mm * (1.0 + 1e-6);
  for (const auto* d : {&a_to_b, &b_to_a}) {
    for (double x : *d) {
      sum += x;
      within += x <= limit;
      worst = std::max(worst, x);
    }
  }
  const double count = static_cast<double>(a_to_b.size() + b_to_a.size());
  r.hausdorff_mm = worst;
  r.hd95_mm = std::max(Percentile(a_to_b, 95), Percentile(b_to_a, 95));
  r.assd_mm = sum / count;
  r.nsd = within / count;
  return r;
}

}  // namespace caliper::quality
