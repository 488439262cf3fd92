// libFuzzer harness for the DICOM read path: DecodeImage on every instance of the input
// (instances separated by kInstanceSeparator) and BuildVolume on all of them, with a 64 MiB
// decoding limit. Besides ASan/UBSan findings it checks the contract of image.h and volume.h
// and aborts when it is broken:
//   - a decoded image holds exactly rows * columns * samples * frames values, one geometry per
//     frame;
//   - a built volume holds dims[0] * dims[1] * dims[2] values and one source per slice.
// Run: fuzz/run.sh.
#include <cstdio>
#include <cstdlib>

#include "caliper/dicom/image.h"
#include "caliper/dicom/volume.h"
#include "imaging_fuzz.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "contract broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace caliper;
  const auto instances = fuzz::SplitInstances({data, size});
  dicom::DecodeLimits limits;
  limits.max_decoded_bytes = fuzz::kMaxDecodedBytes;
  std::size_t total = 0;
  for (const auto& bytes : instances) {
    auto image = dicom::DecodeImage(bytes, limits);
    if (!image.ok()) continue;
    total += image->values.size();
    if (image->values.size() != image->FrameSize() * static_cast<std::size_t>(image->frames) ||
        image->frame_geometry.size() != static_cast<std::size_t>(image->frames)) {
      Fail("decoded image size");
    }
  }
  if (total * sizeof(float) > 4 * fuzz::kMaxDecodedBytes) return 0;  // keep one run bounded
  dicom::VolumeOptions options;
  options.limits = limits;
  auto volume = dicom::BuildVolume(instances, options);
  if (volume.ok()) {
    const auto& d = volume->dims;
    if (volume->values.size() != static_cast<std::size_t>(d[0]) * d[1] * d[2] ||
        volume->slices.size() != static_cast<std::size_t>(d[2])) {
      Fail("volume size");
    }
  }
  return 0;
}
