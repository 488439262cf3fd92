// Writes the synthetic ultrasound cine phantom (caliper::dicom::MakeUltrasoundCinePhantom: 8-bit
// RGB, fake PHI in its header) in a chosen transfer syntax (caliper::dicom::Transcode), for
// measuring what blanking costs: bench/dicom_blank_memory.sh uses 200 frames of 512 x 512.
//   caliper_us_phantom OUT_FILE [FRAMES=200] [ROWS=512] [COLS=512] [TRANSFER_SYNTAX_UID=1.2.840.10008.1.2.1]

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "bench_args.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/phantom.h"

int main(int argc, char** argv) {
  const char* const usage = "usage: %s OUT_FILE [FRAMES=200] [ROWS=512] [COLS=512] [TRANSFER_SYNTAX_UID]\n";
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::printf(usage, argv[0]);
    return 0;
  }
  if (argc < 2 || argc > 6 || argv[1][0] == '-') {  // an option is never taken for the output file
    std::fprintf(stderr, usage, argv[0]);
    return 2;
  }
  const auto frames = argc > 2 ? caliper::bench::Number(argv[2], 1, 10000) : 200;
  const auto rows = argc > 3 ? caliper::bench::Number(argv[3], 1, 65535) : 512;
  const auto cols = argc > 4 ? caliper::bench::Number(argv[4], 1, 65535) : 512;
  if (!frames || !rows || !cols) {
    std::fprintf(stderr, "caliper_us_phantom: FRAMES must be 1-10000, ROWS and COLS 1-65535\n");
    return 2;
  }
  const std::string syntax = argc > 5 ? argv[5] : "1.2.840.10008.1.2.1";
  auto cine = caliper::dicom::MakeUltrasoundCinePhantom(static_cast<int>(*frames), static_cast<int>(*rows),
                                                        static_cast<int>(*cols), /*ybr_planar=*/false, 1);
  if (cine.ok() && syntax != "1.2.840.10008.1.2.1") cine = caliper::dicom::Transcode(*cine, syntax);
  if (!cine.ok()) {
    std::fprintf(stderr, "caliper_us_phantom: %s\n", cine.status().ToString().c_str());
    return 1;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out.write(reinterpret_cast<const char*>(cine->data()), static_cast<std::streamsize>(cine->size()));
  if (!out.flush()) {
    std::fprintf(stderr, "caliper_us_phantom: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
