#pragma once

// The libpng bridge (simplified API, libpng 1.6): 8-bit grey or RGB images to and from PNG
// bytes in memory. No libpng type leaves png.cpp. Thread-safe.

#include <cstdint>
#include <span>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

struct PngImage {
  int width = 0;
  int height = 0;
  int channels = 1;  // 1 grey, 3 RGB
  std::vector<std::uint8_t> pixels;  // row by row, channels interleaved
};

// Errors: kInvalidArgument for a size mismatch; kInternal if libpng fails.
Result<std::vector<std::uint8_t>> EncodePng(const PngImage& image);

// Decodes any PNG into 8-bit grey (channels 1) or RGB (channels 3), as stored.
// Errors: kInvalidArgument for bytes that are not a PNG.
Result<PngImage> DecodePng(std::span<const std::uint8_t> bytes);

}  // namespace caliper::dicom
