#pragma once

// Helpers shared by the src/dicom tests: phantom series in memory, volumes built from them,
// and editing a file's dataset with DCMTK.

#include <gtest/gtest.h>

#include <functional>
#include <span>
#include <vector>

#include "caliper/dicom/phantom.h"
#include "caliper/dicom/volume.h"
#include "dicom/codecs.h"

namespace caliper::dicom::testing {

using Bytes = std::vector<std::uint8_t>;

inline std::vector<Bytes> Series(const CtPhantomOptions& o) {
  auto s = MakeCtPhantomSeries(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : std::vector<Bytes>{};
}

inline Result<Volume> Build(const std::vector<Bytes>& files, const VolumeOptions& options = {}) {
  std::vector<std::span<const std::uint8_t>> spans(files.begin(), files.end());
  return BuildVolume(spans, options);
}

inline Volume MustBuild(const CtPhantomOptions& o) {
  auto v = Build(Series(o));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : Volume{};
}

// Loads `bytes`, lets `change` edit the dataset, writes it back (explicit VR little endian).
inline Bytes Modify(const Bytes& bytes, const std::function<void(DcmDataset&)>& change) {
  DcmFileFormat file;
  EXPECT_TRUE(ReadDicom(bytes, file).ok());
  change(*file.getDataset());
  auto out = WriteDicom(file, EXS_LittleEndianExplicit);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : Bytes{};
}

}  // namespace caliper::dicom::testing
