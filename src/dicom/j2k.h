#pragma once

// The libopenjp2 bridge: JPEG 2000 frames (PS3.5 A.4.4, transfer syntaxes 1.2.840.10008.1.2.4.90
// lossless and .91 lossy), which DCMTK's free codecs cannot decode. No openjp2 type leaves
// j2k.cpp. Thread-safe: every call owns its codec and stream.

#include <cstdint>
#include <span>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

// The most bits per sample the bridge decodes and encodes: openjp2 (2.5) accepts up to 31, but
// its lossless round trip is exact only up to 24 bits (25 and more come back altered).
inline constexpr int kJ2kMaxPrecision = 24;

// One decoded (or to-be-encoded) image: components interleaved per pixel, row by row.
struct J2kImage {
  int width = 0;
  int height = 0;
  int components = 0;  // 1 (grey) or 3 (colour; an MCT in the codestream is undone)
  int precision = 0;   // bits per sample, 1..kJ2kMaxPrecision
  bool is_signed = false;
  std::vector<std::int32_t> samples;  // width * height * components
};

// Decodes a J2K codestream (or a JP2 file, recognised by its signature box). Errors:
// kInvalidArgument when openjp2 cannot read it, when components differ in size or precision, when
// the precision exceeds kJ2kMaxPrecision, or when the image is larger than `max_samples` samples
// (checked before the tiles are decoded).
Result<J2kImage> DecodeJ2k(std::span<const std::uint8_t> data, std::uint64_t max_samples);

// Encodes `image` as a J2K codestream: reversible 5/3 wavelet when `lossless`, else the
// irreversible 9/7 wavelet at `compression_ratio`:1 (>1). Colour images get the component
// transform (RCT/ICT). Errors: kInvalidArgument for a bad image, kInternal if openjp2 fails.
Result<std::vector<std::uint8_t>> EncodeJ2k(const J2kImage& image, bool lossless,
                                            double compression_ratio);

}  // namespace caliper::dicom
