#pragma once

// The one setting through which tests find the public sample files of ../shared/data:
// CALIPER_SAMPLE_DATA names the folder; CALIPER_REQUIRE_SAMPLE_DATA=1 (set by .ci/run) makes
// a missing file a test failure instead of a skip. Never copy the files into the repo.

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace caliper {

// The path of `relative` under CALIPER_SAMPLE_DATA when that file exists, else nullopt.
inline std::optional<std::string> SampleDataFile(std::string_view relative) {
  const char* root = std::getenv("CALIPER_SAMPLE_DATA");
  if (root == nullptr || *root == '\0') return std::nullopt;
  std::filesystem::path path = std::filesystem::path(root) / relative;
  if (!std::filesystem::is_regular_file(path)) return std::nullopt;
  return path.string();
}

inline bool SampleDataRequired() {
  const char* required = std::getenv("CALIPER_REQUIRE_SAMPLE_DATA");
  return required != nullptr && std::string_view(required) == "1";
}

}  // namespace caliper
