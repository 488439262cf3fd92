#pragma once

// The libzstd bridge: one-shot compression of a byte buffer. No zstd type leaves zstd.cpp.
// Thread-safe.

#include <cstdint>
#include <span>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

// A zstd frame (level 3, content size recorded). Errors: kInternal if zstd fails.
Result<std::vector<std::uint8_t>> ZstdCompress(std::span<const std::uint8_t> data);

// Decompresses one zstd frame whose recorded content size is at most `max_size`. Errors:
// kIntegrity for data that is not a zstd frame, is corrupt, or claims more than `max_size`.
Result<std::vector<std::uint8_t>> ZstdDecompress(std::span<const std::uint8_t> frame,
                                                 std::uint64_t max_size);

}  // namespace caliper::dicom
