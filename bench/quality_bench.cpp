// Caliper's side of bench/quality_bench.sh (bench/README.md): the quality library on large
// synthetic inputs, timed in process, and the same inputs written to a directory for the
// peers (bench/quality_peer.py, bench/staple_itk.cpp).
//
//   caliper_bench_quality DIR [--items N] [--raters R] [--side S] [--repeat K]
//
// Writes DIR/ratings.u8 (items x raters category codes 1..4, row-major), DIR/rater<r>.u8 (the
// STAPLE masks, S^3 voxels, x fastest) and DIR/caliper_consensus.f32 (Caliper's STAPLE
// consensus). Prints human-readable lines and "RESULT <name> <value>" lines for the script.
// Times are the best of K runs, in seconds.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "caliper/quality/agreement.h"
#include "caliper/quality/mask_metrics.h"
#include "caliper/quality/staple.h"

namespace {

using caliper::quality::AgreementWeights;
using caliper::quality::MaskView;
using caliper::quality::MeasurementLevel;
using caliper::quality::RatingSet;

template <typename F>
double BestSeconds(int repeat, F&& f) {
  double best = std::numeric_limits<double>::infinity();
  for (int k = 0; k < repeat; ++k) {
    auto start = std::chrono::steady_clock::now();
    f();
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
    best = std::min(best, d.count());
  }
  return best;
}

void Result(const char* name, double value) { std::printf("RESULT %s %.9g\n", name, value); }

template <typename T>
bool WriteRaw(const std::string& path, const std::vector<T>& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()),
            static_cast<std::streamsize>(data.size() * sizeof(T)));
  return static_cast<bool>(out);
}

template <typename R>
double Value(const R& r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s failed: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return r->value;
}

// Each item has a true category 1..4; each rater reports it with probability 0.7, otherwise a
// uniformly random category. No missing ratings (statsmodels' fleiss_kappa needs none).
int Agreement(const std::string& dir, std::size_t items, std::size_t raters, int repeat) {
  std::mt19937_64 rng(20261126);
  std::uniform_int_distribution<int> category(1, 4);
  std::bernoulli_distribution correct(0.7);
  std::vector<std::uint8_t> codes(items * raters);
  for (std::size_t i = 0; i < items; ++i) {
    const int truth = category(rng);
    for (std::size_t r = 0; r < raters; ++r) {
      codes[i * raters + r] = static_cast<std::uint8_t>(correct(rng) ? truth : category(rng));
    }
  }
  if (!WriteRaw(dir + "/ratings.u8", codes)) return 1;
  std::vector<double> matrix(codes.begin(), codes.end());

  auto set = RatingSet::FromMatrix(items, raters, matrix);
  if (!set.ok()) return 1;
  double alpha = 0, fleiss = 0;
  const double build = BestSeconds(repeat, [&] {
    auto s = RatingSet::FromMatrix(items, raters, matrix);
    if (!s.ok()) std::exit(1);
  });
  const double alpha_s = BestSeconds(repeat, [&] {
    alpha = Value(caliper::quality::KrippendorffAlpha(*set, MeasurementLevel::kNominal), "alpha");
  });
  const double fleiss_s = BestSeconds(repeat, [&] {
    fleiss = Value(caliper::quality::FleissKappa(*set, AgreementWeights::kNone), "fleiss");
  });
  // The fast path: the codes matrix as it is (codes 1..4 are category indices).
  const caliper::quality::CategoryCodes dense{items, raters, codes};
  double fast_alpha = 0, fast_fleiss = 0;
  const double fast_alpha_s = BestSeconds(repeat, [&] {
    fast_alpha = Value(caliper::quality::KrippendorffAlphaNominal(dense), "alpha (codes)");
  });
  const double fast_fleiss_s = BestSeconds(repeat, [&] {
    fast_fleiss = Value(caliper::quality::FleissKappa(dense), "fleiss (codes)");
  });
  std::printf("caliper  %zu items x %zu raters, from a uint8 code matrix (CategoryCodes):\n", items,
              raters);
  std::printf("caliper  Krippendorff alpha (nominal) = %.10f  %.4f s\n", fast_alpha, fast_alpha_s);
  std::printf("caliper  Fleiss kappa                 = %.10f  %.4f s\n", fast_fleiss, fast_fleiss_s);
  std::printf("caliper  from a double matrix through RatingSet::FromMatrix (%.4f s), then:\n", build);
  std::printf("caliper  Krippendorff alpha (nominal) = %.10f  %.4f s (+ set: %.4f s)\n", alpha,
              alpha_s, alpha_s + build);
  std::printf("caliper  Fleiss kappa                 = %.10f  %.4f s (+ set: %.4f s)\n", fleiss,
              fleiss_s, fleiss_s + build);
  Result("caliper_codes_alpha", fast_alpha);
  Result("caliper_codes_alpha_s", fast_alpha_s);
  Result("caliper_codes_fleiss", fast_fleiss);
  Result("caliper_codes_fleiss_s", fast_fleiss_s);
  Result("caliper_build_s", build);
  Result("caliper_alpha", alpha);
  Result("caliper_alpha_s", alpha_s);
  Result("caliper_fleiss", fleiss);
  Result("caliper_fleiss_s", fleiss_s);
  return 0;
}

// A deterministic per-voxel uniform number in [0, 1) (SplitMix64 of the voxel and rater).
double Noise(std::uint64_t voxel, std::uint64_t rater) {
  std::uint64_t z = voxel * 0x9E3779B97F4A7C15ULL + rater * 0xD1B54A32D192ED03ULL + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// Rater r draws a sphere of radius 0.3 * side, its centre shifted by r - 2 voxels along x and
// its radius by 0.75 * (r - 2); within 2 voxels of its surface each voxel is decided by a coin
// weighted by the distance; one voxel in 10^4 elsewhere is a false positive.
std::vector<std::uint8_t> Sphere(int side, int r) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(side) * side * side);
  const double c = side / 2.0, cx = c + (r - 2), radius = 0.3 * side + 0.75 * (r - 2);
  std::size_t i = 0;
  for (int z = 0; z < side; ++z) {
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x, ++i) {
        const double d =
            std::sqrt((x - cx) * (x - cx) + (y - c) * (y - c) + (z - c) * (z - c)) - radius;
        bool inside = d < 0;
        if (std::abs(d) < 2) inside = Noise(i, r) < 0.5 - d / 4;
        if (!inside && Noise(i, r + 100) < 1e-4) inside = true;
        v[i] = inside;
      }
    }
  }
  return v;
}

int Staple(const std::string& dir, int side, int n_raters, int repeat) {
  std::vector<std::vector<std::uint8_t>> masks;
  std::vector<MaskView> views;
  const caliper::quality::Grid grid{{side, side, side}, {1, 1, 1}};
  for (int r = 0; r < n_raters; ++r) {
    masks.push_back(Sphere(side, r));
    if (!WriteRaw(dir + "/rater" + std::to_string(r) + ".u8", masks.back())) return 1;
  }
  for (const auto& m : masks) views.push_back({grid, m});
  caliper::quality::BinaryStapleResult fit;
  const double seconds = BestSeconds(repeat, [&] {
    auto f = caliper::quality::StapleBinary(views);
    if (!f.ok()) {
      std::fprintf(stderr, "STAPLE failed: %s\n", f.status().ToString().c_str());
      std::exit(1);
    }
    fit = std::move(*f);
  });
  if (!WriteRaw(dir + "/caliper_consensus.f32", fit.consensus)) return 1;
  std::printf("caliper  STAPLE %d^3 x %d raters: %.4f s, %d iterations, %zu patterns\n", side,
              n_raters, seconds, fit.iterations, fit.distinct_patterns);
  for (int r = 0; r < n_raters; ++r) {
    std::printf("caliper    rater %d: sensitivity %.6f specificity %.8f\n", r, fit.sensitivity[r],
                fit.specificity[r]);
  }
  Result("caliper_staple_s", seconds);
  return 0;
}

// Two spheres of radius 120 mm on a 512 x 512 x 300 grid of 0.7 x 0.7 x 1.5 mm, the second
// shifted by 3 voxels along x and with a bump; Dice and HD95 between them.
int MaskMetrics(int repeat) {
  const caliper::quality::Grid grid{{512, 512, 300}, {0.7, 0.7, 1.5}};
  std::vector<std::uint8_t> a(static_cast<std::size_t>(grid.voxel_count())), b(a.size());
  std::size_t i = 0;
  for (int z = 0; z < 300; ++z) {
    for (int y = 0; y < 512; ++y) {
      for (int x = 0; x < 512; ++x, ++i) {
        const double dy = (y - 256) * 0.7, dz = (z - 150) * 1.5;
        const double da = (x - 256) * 0.7, db = (x - 259) * 0.7;
        a[i] = da * da + dy * dy + dz * dz < 120.0 * 120.0;
        b[i] = db * db + dy * dy + dz * dz < 120.0 * 120.0 ||
               (db - 120) * (db - 120) + dy * dy + dz * dz < 10.0 * 10.0;
      }
    }
  }
  const MaskView va{grid, a}, vb{grid, b};
  double dice = 0, hd95 = 0;
  const double dice_s = BestSeconds(repeat, [&] { dice = caliper::quality::MaskOverlap(va, vb)->dice; });
  const double hd95_s = BestSeconds(
      repeat, [&] { hd95 = caliper::quality::SurfaceDistances(va, vb, 1.0)->hd95_mm; });
  std::printf("caliper  512x512x300 masks: Dice = %.6f %.4f s; HD95 = %.4f mm %.4f s\n", dice,
              dice_s, hd95, hd95_s);
  Result("caliper_dice_s", dice_s);
  Result("caliper_hd95_s", hd95_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: caliper_bench_quality DIR [--items N] [--raters R] [--side S] "
                 "[--repeat K]\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::size_t items = 1'000'000, raters = 5;
  int side = 256, repeat = 3;
  for (int a = 2; a + 1 < argc; a += 2) {
    const std::string flag = argv[a];
    const long value = std::atol(argv[a + 1]);
    if (flag == "--items") items = static_cast<std::size_t>(value);
    else if (flag == "--raters") raters = static_cast<std::size_t>(value);
    else if (flag == "--side") side = static_cast<int>(value);
    else if (flag == "--repeat") repeat = static_cast<int>(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (int rc = Agreement(dir, items, raters, repeat); rc != 0) return rc;
  if (int rc = Staple(dir, side, static_cast<int>(raters), repeat); rc != 0) return rc;
  return MaskMetrics(repeat);
}
