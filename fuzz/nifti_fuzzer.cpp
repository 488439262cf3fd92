// libFuzzer harness for the NIfTI read path: DecodeNifti (NIfTI-1/2, .nii or gzip) with a
// 16 Mi-voxel limit. Besides ASan/UBSan findings it checks the contract of nifti_io.h and
// aborts when it is broken: every returned volume holds dims[0] * dims[1] * dims[2] values and
// all share one geometry. Run: fuzz/run.sh.
#include <cstdio>
#include <cstdlib>

#include "caliper/ingest/nifti_io.h"
#include "imaging_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace caliper;
  auto volumes = ingest::DecodeNifti({data, size}, fuzz::kMaxNiftiVoxels);
  if (!volumes.ok()) return 0;
  for (const auto& v : *volumes) {
    const auto& d = v.geometry.dims;
    if (static_cast<std::int64_t>(v.values.size()) != d[0] * d[1] * d[2] ||
        d != volumes->front().geometry.dims) {
      std::fprintf(stderr, "contract broken: volume size\n");
      std::abort();
    }
  }
  return 0;
}
