// Writes the synthetic CT phantom series (caliper::dicom::WriteCtPhantomSeries, fake PHI in
// its headers) for benchmarks: bench/dicom_deid.sh uses a 500-slice 512 x 512 series.
//   caliper_ct_phantom OUT_DIR [SLICES=500] [ROWS=512] [COLS=512] [SEED=1]

#include <cstdio>
#include <cstdlib>
#include <string>

#include "caliper/dicom/phantom.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 6) {
    std::fprintf(stderr, "usage: %s OUT_DIR [SLICES=500] [ROWS=512] [COLS=512] [SEED=1]\n", argv[0]);
    return 2;
  }
  caliper::dicom::CtPhantomOptions o;
  o.slices = argc > 2 ? std::atoi(argv[2]) : 500;
  o.rows = argc > 3 ? std::atoi(argv[3]) : 512;
  o.cols = argc > 4 ? std::atoi(argv[4]) : 512;
  o.seed = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1;
  o.pixel_spacing_mm = 0.7;
  o.slice_thickness_mm = 1.0;
  const caliper::Status s = caliper::dicom::WriteCtPhantomSeries(o, argv[1], nullptr);
  if (!s.ok()) {
    std::fprintf(stderr, "caliper_ct_phantom: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
