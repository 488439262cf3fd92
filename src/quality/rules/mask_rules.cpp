// The mask.* QA rules and the connected-component summary they use.

#include <algorithm>
#include <array>
#include <cstdio>
#include <vector>

#include "caliper/quality/qa_rules.h"

namespace caliper::quality {
namespace {

// The mask's foreground bounding box grown by one voxel on each side (clamped to the volume),
// so cavities are told from the outside by whether they reach the edge of the volume.
struct Box {
  std::array<std::int64_t, 3> lo{0, 0, 0};
  std::array<std::int64_t, 3> hi{0, 0, 0};  // exclusive
  bool empty = true;
  std::int64_t size(int axis) const { return hi[axis] - lo[axis]; }
};

Box ForegroundBox(const MaskView& mask) {
  Box box;
  const auto& d = mask.grid.dims;
  box.lo = {d[0], d[1], d[2]};
  std::int64_t index = 0;
  for (std::int64_t z = 0; z < d[2]; ++z) {
    for (std::int64_t y = 0; y < d[1]; ++y) {
      for (std::int64_t x = 0; x < d[0]; ++x, ++index) {
        if (!mask.voxels[static_cast<std::size_t>(index)]) continue;
        box.empty = false;
        const std::array<std::int64_t, 3> p{x, y, z};
        for (int a = 0; a < 3; ++a) {
          box.lo[a] = std::min(box.lo[a], p[a]);
          box.hi[a] = std::max(box.hi[a], p[a] + 1);
        }
      }
    }
  }
  for (int a = 0; a < 3; ++a) {
    box.lo[a] = std::max<std::int64_t>(0, box.lo[a] - 1);
    box.hi[a] = std::min(d[a], box.hi[a] + 1);
  }
  return box;
}

// Flood-fills components of voxels whose "foreground" state equals `foreground` inside the box,
// with 26-connectivity (foreground) or 6-connectivity (background). Calls visit(size, touches
// the volume's edge) per component.
template <typename Visit>
void Components(const MaskView& mask, const Box& box, bool foreground, Visit visit) {
  const auto& d = mask.grid.dims;
  const std::int64_t bx = box.size(0), by = box.size(1), bz = box.size(2);
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(bx * by * bz), 0);
  auto local = [&](std::int64_t x, std::int64_t y, std::int64_t z) {
    return static_cast<std::size_t>(((z - box.lo[2]) * by + (y - box.lo[1])) * bx + (x - box.lo[0]));
  };
  auto is_member = [&](std::int64_t x, std::int64_t y, std::int64_t z) {
    const bool fg = mask.voxels[static_cast<std::size_t>((z * d[1] + y) * d[0] + x)] != 0;
    return fg == foreground;
  };
  std::vector<std::array<std::int64_t, 3>> stack;
  for (std::int64_t z = box.lo[2]; z < box.hi[2]; ++z) {
    for (std::int64_t y = box.lo[1]; y < box.hi[1]; ++y) {
      for (std::int64_t x = box.lo[0]; x < box.hi[0]; ++x) {
        if (seen[local(x, y, z)] || !is_member(x, y, z)) continue;
        std::int64_t size = 0;
        bool edge = false;
        seen[local(x, y, z)] = 1;
        stack.push_back({x, y, z});
        while (!stack.empty()) {
          const auto [cx, cy, cz] = stack.back();
          stack.pop_back();
          ++size;
          if (cx == 0 || cy == 0 || cz == 0 || cx == d[0] - 1 || cy == d[1] - 1 || cz == d[2] - 1) {
            edge = true;
          }
          // Background reaching the box's grown border is connected to the outside.
          if (!foreground && (cx == box.lo[0] || cy == box.lo[1] || cz == box.lo[2] ||
                              cx == box.hi[0] - 1 || cy == box.hi[1] - 1 || cz == box.hi[2] - 1)) {
            edge = true;
          }
          for (int dz = -1; dz <= 1; ++dz) {
            for (int dy = -1; dy <= 1; ++dy) {
              for (int dx = -1; dx <= 1; ++dx) {
                const int manhattan = std::abs(dx) + std::abs(dy) + std::abs(dz);
                if (manhattan == 0 || (!foreground && manhattan != 1)) continue;
                const std::int64_t nx = cx + dx, ny = cy + dy, nz = cz + dz;
                if (nx < box.lo[0] || ny < box.lo[1] || nz < box.lo[2] || nx >= box.hi[0] ||
                    ny >= box.hi[1] || nz >= box.hi[2]) {
                  continue;
                }
                const std::size_t l = local(nx, ny, nz);
                if (seen[l] || !is_member(nx, ny, nz)) continue;
                seen[l] = 1;
                stack.push_back({nx, ny, nz});
              }
            }
          }
        }
        visit(size, edge);
      }
    }
  }
}

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

}  // namespace

Result<ComponentSummary> SummariseComponents(const MaskView& mask) {
  if (Status s = ValidateMask(mask); !s.ok()) return s;
  ComponentSummary summary;
  const Box box = ForegroundBox(mask);
  if (box.empty) return summary;
  Components(mask, box, true, [&](std::int64_t size, bool) { summary.sizes.push_back(size); });
  Components(mask, box, false, [&](std::int64_t size, bool edge) {
    if (edge) return;
    ++summary.enclosed_cavities;
    summary.cavity_voxels += size;
  });
  std::sort(summary.sizes.rbegin(), summary.sizes.rend());
  summary.components = static_cast<std::int64_t>(summary.sizes.size());
  return summary;
}

Result<std::vector<QaFinding>> RunMaskRules(const std::string& item, const std::string& label_class,
                                            const MaskView& mask, bool claimed_present,
                                            std::optional<std::span<const float>> ct_intensities,
                                            const MaskQaSettings& settings) {
  CALIPER_ASSIGN_OR_RETURN(ComponentSummary summary, SummariseComponents(mask));
  if (ct_intensities && static_cast<std::int64_t>(ct_intensities->size()) != mask.grid.voxel_count()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the CT intensities do not cover the mask's grid (" +
                     std::to_string(ct_intensities->size()) + " values for " +
                     std::to_string(mask.grid.voxel_count()) + " voxels)");
  }
  std::vector<QaFinding> out;
  if (summary.components == 0) {
    if (claimed_present) {
      out.push_back({"mask.empty_finding", QaSeverity::kError, item, label_class, "",
                     "the reading says " + label_class + " is present but its mask is empty",
                     "paint the finding, or record it as absent"});
    }
    return out;
  }
  std::int64_t small = 0;
  std::int64_t small_voxels = 0;
  for (std::size_t i = 1; i < summary.sizes.size(); ++i) {
    if (summary.sizes[i] < settings.min_island_voxels) {
      ++small;
      small_voxels += summary.sizes[i];
    }
  }
  if (small > 0) {
    out.push_back({"mask.islands", QaSeverity::kWarning, item, label_class, "",
                   std::to_string(small) + " disconnected island(s) smaller than " +
                       std::to_string(settings.min_island_voxels) + " voxels (" +
                       std::to_string(small_voxels) + " voxels in all) beside the largest component of " +
                       std::to_string(summary.sizes.front()) + " voxels",
                   "erase the stray islands (often stray brush strokes) or confirm they are separate lesions"});
  }
  if (summary.enclosed_cavities > 0) {
    out.push_back({"mask.holes", QaSeverity::kWarning, item, label_class, "",
                   std::to_string(summary.enclosed_cavities) + " enclosed hole(s), " +
                       std::to_string(summary.cavity_voxels) + " voxels in all",
                   "fill the holes (flood fill) unless the structure really is hollow"});
  }
  if (ct_intensities) {
    std::int64_t fg = 0;
    std::int64_t outside = 0;
    for (std::size_t i = 0; i < mask.voxels.size(); ++i) {
      if (!mask.voxels[i]) continue;
      ++fg;
      if ((*ct_intensities)[i] < settings.body_threshold_hu) ++outside;
    }
    const double share = static_cast<double>(outside) / static_cast<double>(fg);
    if (share > settings.max_outside_body_share) {
      out.push_back({"mask.outside_body", QaSeverity::kWarning, item, label_class, "",
                     Format("%.1f%%", 100 * share) + " of the mask (" + std::to_string(outside) +
                         " voxels) lies on air (below " + Format("%.0f", settings.body_threshold_hu) +
                         " HU)",
                     "erase the part painted outside the body; check the mask is on the right series"});
    }
  }
  return out;
}

}  // namespace caliper::quality
