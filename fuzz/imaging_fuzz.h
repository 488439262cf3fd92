#pragma once

// What the imaging harnesses share: the separator that splits one fuzz input into several
// DICOM instances, and the decoding limit that keeps a claimed size from exhausting memory.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace caliper::fuzz {

inline constexpr std::string_view kInstanceSeparator = "\n--CALIPER-INSTANCE--\n";
inline constexpr std::uint64_t kMaxDecodedBytes = std::uint64_t{64} << 20;
inline constexpr std::int64_t kMaxNiftiVoxels = std::int64_t{16} << 20;

// Splits `data` at every separator.
inline std::vector<std::span<const std::uint8_t>> SplitInstances(std::span<const std::uint8_t> data) {
  std::vector<std::span<const std::uint8_t>> out;
  const std::string_view all(reinterpret_cast<const char*>(data.data()), data.size());
  std::size_t start = 0;
  while (true) {
    const std::size_t at = all.find(kInstanceSeparator, start);
    const std::size_t end = at == std::string_view::npos ? all.size() : at;
    out.push_back(data.subspan(start, end - start));
    if (at == std::string_view::npos) break;
    start = at + kInstanceSeparator.size();
  }
  return out;
}

}  // namespace caliper::fuzz
