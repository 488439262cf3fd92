#pragma once

// Exact Euclidean distance transform with anisotropic spacing: the separable lower-envelope
// algorithm of Felzenszwalb & Huttenlocher (2012), "Distance transforms of sampled functions",
// Theory of Computing 8:415-428, run along x, then y, then z. Linear in the number of voxels.

#include <array>
#include <cstdint>
#include <vector>

namespace caliper::quality::internal {

// For every nonzero voxel of `query`, the Euclidean distance in mm from its centre to the
// nearest centre of a nonzero voxel of `features`, on a dims[0] x dims[1] x dims[2] grid (x
// fastest) with the given spacing; +infinity when `features` has no nonzero voxel. The order
// of the distances is unspecified. Both buffers hold dims[0] * dims[1] * dims[2] voxels. Uses
// up to two threads; thread-safe.
std::vector<double> DistancesToNearest(const std::array<std::int64_t, 3>& dims,
                                       const std::array<double, 3>& spacing_mm,
                                       const std::vector<std::uint8_t>& features,
                                       const std::vector<std::uint8_t>& query);

}  // namespace caliper::quality::internal
