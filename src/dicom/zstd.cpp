#include "dicom/zstd.h"

#include <zstd.h>

#include <string>

namespace caliper::dicom {

Result<std::vector<std::uint8_t>> ZstdCompress(std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) {
    return Error(ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
}

Result<std::vector<std::uint8_t>> ZstdDecompress(std::span<const std::uint8_t> frame,
                                                 std::uint64_t max_size) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Error(ErrorCode::kIntegrity, "not a zstd frame with a recorded size");
  }
  if (size > max_size) return Error(ErrorCode::kIntegrity, "zstd frame larger than allowed");
  std::vector<std::uint8_t> out(size);
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != size) {
    return Error(ErrorCode::kIntegrity, std::string("corrupt zstd frame: ") +
                                            (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  return out;
}

}  // namespace caliper::dicom
