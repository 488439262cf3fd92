#pragma once

// Re-encoding a DICOM instance in another transfer syntax, in memory. Used to write test
// fixtures for every syntax DecodeImage reads, fuzzing seeds and benchmarks, and by exports
// that must hand a peer a syntax it accepts. No DCMTK type appears here. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

struct TranscodeOptions {
  int jpeg_quality = 90;         // JPEG baseline/extended (lossy), 1..100
  int jpegls_near = 2;           // JPEG-LS near-lossless: the largest error per sample
  double j2k_ratio = 10;         // JPEG 2000 lossy (.91): compression ratio
  // JPEG 2000: 0 puts each frame in one fragment with an empty Basic Offset Table; otherwise
  // frames are split into fragments of at most this many bytes (even) and the table is filled.
  std::size_t j2k_fragment_bytes = 0;
};

// Returns `bytes` (a Part 10 file in any syntax DecodeImage reads) as a Part 10 file in
// transfer syntax `uid`: one of IsSupportedTransferSyntax. Lossy syntaxes (JPEG baseline and
// extended, JPEG-LS near-lossless, JPEG 2000 .91) set Lossy Image Compression = 01.
// JPEG baseline needs 8-bit samples and extended at most 12. Errors: kInvalidArgument for
// unreadable input or pixel data the codec cannot take; kUnsupported for another uid.
Result<std::vector<std::uint8_t>> Transcode(std::span<const std::uint8_t> bytes,
                                            const std::string& uid,
                                            const TranscodeOptions& options = {});

}  // namespace caliper::dicom
