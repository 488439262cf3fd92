#pragma once

// Test helper for every part that takes DICOM in (app, http): the CT phantom series as the
// files an upload carries. No DCMTK here (dicom/test_support.h has the DCMTK helpers of the
// dicom tests), so any part's tests may include it.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "caliper/dicom/phantom.h"

namespace caliper::dicom::testing {

// The phantom CT series (MakeCtPhantomSeries) of `slices` slices of `size` x `size` pixels, its
// UIDs derived from `seed`: one Part 10 file a string, in slice order. Empty, with a test
// failure, when it cannot be made.
inline std::vector<std::string> CtPhantomFiles(int slices, int size, std::uint64_t seed) {
  CtPhantomOptions o;
  o.slices = slices;
  o.rows = o.cols = size;
  o.seed = seed;
  auto series = MakeCtPhantomSeries(o);
  EXPECT_TRUE(series.ok()) << series.status().ToString();
  std::vector<std::string> files;
  if (series.ok()) {
    for (const auto& bytes : *series) files.emplace_back(bytes.begin(), bytes.end());
  }
  return files;
}

}  // namespace caliper::dicom::testing
