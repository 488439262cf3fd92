// Writes the DICOM fuzzing seed corpus: small CT phantom series (caliper::dicom, fake PHI
// only) of a few sizes into OUT_DIR. Usage: caliper_fuzz_dicom_seeds OUT_DIR
#include <cstdio>
#include <string>

#include "caliper/dicom/phantom.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  int seed = 1;
  for (int size : {8, 12, 16}) {
    caliper::dicom::CtPhantomOptions o;
    o.rows = o.cols = size;
    o.slices = 2;
    o.seed = seed++;
    const std::string dir = std::string(argv[1]) + "/phantom" + std::to_string(size);
    if (auto s = caliper::dicom::WriteCtPhantomSeries(o, dir, nullptr); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
