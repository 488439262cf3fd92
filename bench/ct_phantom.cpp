// Writes the synthetic CT phantom series (caliper::dicom::WriteCtPhantomSeries, fake PHI in
// its headers) for benchmarks: bench/dicom_deid.sh uses a 500-slice 512 x 512 series.
//   caliper_ct_phantom OUT_DIR [SLICES=500] [ROWS=512] [COLS=512] [SEED=1]

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "bench_args.h"
#include "caliper/dicom/phantom.h"

int main(int argc, char** argv) {
  const char* const usage = "usage: %s OUT_DIR [SLICES=500] [ROWS=512] [COLS=512] [SEED=1]\n";
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::printf(usage, argv[0]);
    return 0;
  }
  // An option is never taken for the output folder (a folder "--help" was once made).
  if (argc < 2 || argc > 6 || argv[1][0] == '-') {
    std::fprintf(stderr, usage, argv[0]);
    return 2;
  }
  const auto slices = argc > 2 ? caliper::bench::Number(argv[2], 1, 100000) : 500;
  const auto rows = argc > 3 ? caliper::bench::Number(argv[3], 1, 65535) : 512;
  const auto cols = argc > 4 ? caliper::bench::Number(argv[4], 1, 65535) : 512;
  const auto seed = argc > 5 ? caliper::bench::Number(argv[5], 0, ~0ULL) : 1;
  if (!slices || !rows || !cols || !seed) {
    std::fprintf(stderr, "caliper_ct_phantom: SLICES must be 1-100000, ROWS and COLS 1-65535, SEED a whole number\n");
    return 2;
  }
  caliper::dicom::CtPhantomOptions o;
  o.slices = static_cast<int>(*slices);
  o.rows = static_cast<int>(*rows);
  o.cols = static_cast<int>(*cols);
  o.seed = *seed;
  o.pixel_spacing_mm = 0.7;
  o.slice_thickness_mm = 1.0;
  const caliper::Status s = caliper::dicom::WriteCtPhantomSeries(o, argv[1], nullptr);
  if (!s.ok()) {
    std::fprintf(stderr, "caliper_ct_phantom: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
