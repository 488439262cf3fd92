#pragma once

// Decoding one DICOM instance (a Part 10 file or a bare dataset, held in memory) into pixel
// values and the per-frame geometry DICOM gives them. No DCMTK type appears here.
//
// Transfer syntaxes (PS3.5 A.4, PS3.6 table A-1): implicit and explicit VR little endian,
// explicit VR big endian (retired), deflated explicit VR little endian, RLE lossless, JPEG
// baseline (process 1), extended (2 & 4), lossless (14, and 14 SV1), JPEG-LS lossless and
// near-lossless (DCMTK's dcmjpeg, dcmjpls, dcmdata), JPEG 2000 lossless and lossy (.90, .91,
// through libopenjp2). Anything else is kUnsupported naming the syntax.
//
// Thread-safe: calls share nothing but DCMTK's codec registry, which is filled once.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

// Bounds for untrusted input.
struct DecodeLimits {
  // The decoded size of all frames (rows * columns * samples * frames * 4 bytes) may not exceed
  // this; a header claiming more is kInvalidArgument before anything is allocated.
  std::uint64_t max_decoded_bytes = std::uint64_t{4} << 30;
};

// What one frame's attributes say, taken from the frame's Per-Frame Functional Groups item,
// else the Shared Functional Groups, else the top-level dataset (PS3.3 C.7.6.16).
struct FrameGeometry {
  std::optional<std::array<double, 3>> position;     // Image Position (Patient), mm, LPS
  std::optional<std::array<double, 6>> orientation;  // Image Orientation (Patient): row\column
  std::optional<std::array<double, 2>> pixel_spacing;  // mm between rows, between columns
  std::optional<double> slice_thickness;               // mm
  double rescale_slope = 1;                            // Pixel Value Transformation / Rescale
  double rescale_intercept = 0;
};

enum class PixelKind {
  kMonochrome2,  // grey, larger is brighter
  kMonochrome1,  // grey, larger is darker (values are not inverted; renderers invert)
  kRgb,          // colour; YBR_FULL, YBR_FULL_422, YBR_RCT and YBR_ICT arrive as RGB
};

// One decoded instance. `values` holds every frame, frame after frame, row by row, samples
// interleaved (RGB): grey values are modality values (stored value * slope + intercept of
// their frame); colour values are 0..255 (or the stored range) without any rescaling.
struct DecodedImage {
  std::string transfer_syntax_uid;
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string study_instance_uid;
  std::string series_instance_uid;
  std::string frame_of_reference_uid;
  std::string modality;
  std::string body_part_examined;
  int rows = 0;
  int columns = 0;
  int samples_per_pixel = 1;  // 1 or 3
  int frames = 1;
  int bits_stored = 0;
  bool pixel_signed = false;
  PixelKind kind = PixelKind::kMonochrome2;
  std::optional<double> window_center;  // the first Window Center/Width pair, if any
  std::optional<double> window_width;
  std::optional<double> gantry_tilt_deg;  // Gantry/Detector Tilt (0018,1120)
  std::vector<FrameGeometry> frame_geometry;  // one per frame
  std::vector<float> values;

  std::size_t FrameSize() const {
    return static_cast<std::size_t>(rows) * columns * samples_per_pixel;
  }
  std::span<const float> Frame(int f) const {
    return std::span<const float>(values).subspan(FrameSize() * f, FrameSize());
  }
};

// Decodes `bytes`. Errors (the message names the cause, for a per-file report):
// kNotFound without Pixel Data (not an image, not a broken one); kInvalidArgument for input that
// is empty, truncated, not DICOM, with inconsistent or oversized pixel attributes, or whose
// compressed frames do not decode; kUnsupported for a transfer syntax or photometric
// interpretation (e.g. PALETTE COLOR) that Caliper cannot decode.
Result<DecodedImage> DecodeImage(std::span<const std::uint8_t> bytes,
                                 const DecodeLimits& limits = {});

// The top-level attributes of a Part 10 file that hold text (every VR but sequences and binary
// ones), keyed "GGGGEEEE" (upper-case hex) to the value as stored (values joined by a backslash,
// trailing padding removed). For review screens and tests. Errors: kInvalidArgument as
// DecodeImage for input that is not DICOM.
Result<std::map<std::string, std::string>> ReadTextAttributes(std::span<const std::uint8_t> bytes);

// Whether DecodeImage can decode pixel data in transfer syntax `uid`.
bool IsSupportedTransferSyntax(const std::string& uid);

}  // namespace caliper::dicom
