#include "quality/masks/edt.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <thread>

namespace caliper::quality::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::int64_t kGroup = 16;  // adjacent lines gathered together (one cache line)

// Per-thread scratch for one line of length n.
struct LineScratch {
  explicit LineScratch(std::int64_t n) : f(n), out(n), v(n), z(n + 1) {}
  std::vector<double> f, out;
  std::vector<std::int64_t> v;
  std::vector<double> z;
};

// out[p] = min_q s2 (p - q)^2 + f[q] over the finite f[q] (FH 2012, algorithm 1); +inf when
// there is none.
void Transform1d(std::int64_t n, double s2, LineScratch& s) {
  const double* f = s.f.data();
  std::int64_t* v = s.v.data();
  double* z = s.z.data();
  std::int64_t k = -1;
  for (std::int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      continue;
    }
    const double fq = f[q] + s2 * static_cast<double>(q) * q;
    double x;
    while (true) {
      const std::int64_t r = v[k];
      x = (fq - (f[r] + s2 * static_cast<double>(r) * r)) / (2.0 * s2 * (q - r));
      if (x > z[k]) break;
      --k;  // never below 0: z[0] is -inf
    }
    ++k;
    v[k] = q;
    z[k] = x;
  }
  if (k < 0) {
    std::fill_n(s.out.begin(), n, kInf);
    return;
  }
  z[k + 1] = kInf;
  std::int64_t j = 0;
  for (std::int64_t p = 0; p < n; ++p) {
    while (z[j + 1] < p) ++j;
    const double d = static_cast<double>(p - v[j]);
    s.out[p] = s2 * d * d + f[v[j]];
  }
}

// Runs body(begin, end, thread_index) over [0, count) split across up to two threads.
template <typename Body>
void ParallelRanges(std::int64_t count, Body body) {
  const unsigned hw = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
  if (hw == 1 || count < 64) {
    body(0, count, 0);
    return;
  }
  const std::int64_t half = count / 2;
  std::thread other([&] { body(half, count, 1); });
  body(0, half, 0);
  other.join();
}

}  // namespace

std::vector<double> DistancesToNearest(const std::array<std::int64_t, 3>& dims,
                                       const std::array<double, 3>& spacing_mm,
                                       const std::vector<std::uint8_t>& features,
                                       const std::vector<std::uint8_t>& query) {
  const std::int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  const std::int64_t total = nx * ny * nz;
  std::vector<double> result;
  if (std::none_of(features.begin(), features.end(), [](auto v) { return v != 0; })) {
    result.assign(std::count_if(query.begin(), query.end(), [](auto v) { return v != 0; }), kInf);
    return result;
  }
  // Squared distances in mm^2 between passes (float halves the memory of large volumes).
  std::vector<float> d(total);
  for (std::int64_t i = 0; i < total; ++i) {
    d[i] = features[i] ? 0.0f : std::numeric_limits<float>::infinity();
  }

  // Pass along x: contiguous lines.
  const double sx2 = spacing_mm[0] * spacing_mm[0];
  ParallelRanges(ny * nz, [&](std::int64_t begin, std::int64_t end, int) {
    LineScratch s(nx);
    for (std::int64_t line = begin; line < end; ++line) {
      float* row = d.data() + line * nx;
      std::copy(row, row + nx, s.f.begin());
      Transform1d(nx, sx2, s);
      std::copy(s.out.begin(), s.out.begin() + nx, row);
    }
  });

  // Passes along y and z: groups of adjacent lines (consecutive x) are gathered together so
  // each memory access reads a whole cache line. The z pass evaluates only at query voxels.
  std::vector<std::vector<double>> found(2);
  auto strided_pass = [&](std::int64_t n, std::int64_t stride, std::int64_t n_groups,
                          auto group_base, auto group_size, double s2, bool last) {
    ParallelRanges(n_groups, [&](std::int64_t begin, std::int64_t end, int thread) {
      std::vector<LineScratch> lines;
      for (std::int64_t t = 0; t < kGroup; ++t) lines.emplace_back(n);
      for (std::int64_t g = begin; g < end; ++g) {
        const std::int64_t base = group_base(g), width = group_size(g);
        for (std::int64_t p = 0; p < n; ++p) {
          const float* src = d.data() + base + p * stride;
          for (std::int64_t t = 0; t < width; ++t) lines[t].f[p] = src[t];
        }
        // The last pass needs values only at query voxels: skip lines without any.
        std::array<bool, kGroup> needed;
        needed.fill(!last);
        for (std::int64_t p = 0; last && p < n; ++p) {
          for (std::int64_t t = 0; t < width; ++t) needed[t] |= query[base + p * stride + t] != 0;
        }
        for (std::int64_t t = 0; t < width; ++t) {
          if (needed[t]) Transform1d(n, s2, lines[t]);
        }
        for (std::int64_t p = 0; p < n; ++p) {
          const std::int64_t at = base + p * stride;
          for (std::int64_t t = 0; t < width; ++t) {
            if (!last) {
              d[at + t] = static_cast<float>(lines[t].out[p]);
            } else if (query[at + t] != 0) {
              found[thread].push_back(std::sqrt(lines[t].out[p]));
            }
          }
        }
      }
    });
  };
  const std::int64_t x_groups = (nx + kGroup - 1) / kGroup;
  strided_pass(
      ny, nx, nz * x_groups,
      [&](std::int64_t g) { return (g / x_groups) * nx * ny + (g % x_groups) * kGroup; },
      [&](std::int64_t g) { return std::min(kGroup, nx - (g % x_groups) * kGroup); },
      spacing_mm[1] * spacing_mm[1], false);
  const std::int64_t xy = nx * ny, xy_groups = (xy + kGroup - 1) / kGroup;
  strided_pass(
      nz, xy, xy_groups, [&](std::int64_t g) { return g * kGroup; },
      [&](std::int64_t g) { return std::min(kGroup, xy - g * kGroup); },
      spacing_mm[2] * spacing_mm[2], true);
  result = std::move(found[0]);
  result.insert(result.end(), found[1].begin(), found[1].end());
  return result;
}

}  // namespace caliper::quality::internal
