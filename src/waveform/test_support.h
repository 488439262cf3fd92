#pragma once

// Helpers for the waveform tests: sample files and the independent Python cross-check
// (tests/waveform/crosscheck.py, numpy and pydicom from Debian).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "caliper/common/sample_data.h"

namespace caliper::waveform::testing {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The folder holding `relative` under CALIPER_SAMPLE_DATA; nullopt (and a failure when the data
// is required) otherwise.
inline std::optional<std::string> SampleFolder(const std::string& relative) {
  auto path = SampleDataFile(relative);
  if (!path) {
    if (SampleDataRequired()) ADD_FAILURE() << "sample file " << relative << " is missing";
    return std::nullopt;
  }
  return std::filesystem::path(*path).parent_path().string();
}

// Runs tests/waveform/crosscheck.py with `args`; nullopt (and a failure when sample data is
// required, since the cross-check is part of the check) when Python is missing.
inline std::optional<nlohmann::json> CrossCheck(const std::string& source_dir, const std::string& args) {
  if (!std::filesystem::exists(CALIPER_PYTHON)) {
    if (SampleDataRequired()) ADD_FAILURE() << CALIPER_PYTHON << " with numpy and pydicom is required";
    return std::nullopt;
  }
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("caliper_wave_" + std::to_string(::getpid()) + ".json")).string();
  const std::string cmd = std::string(CALIPER_PYTHON) + " " + source_dir + "/tests/waveform/crosscheck.py " + args +
                          " > " + out;
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << "cross-check failed: " << cmd;
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(ReadAll(out));
  std::filesystem::remove(out);
  return j;
}

}  // namespace caliper::waveform::testing
