#pragma once

// Helpers shared by the src/dicom tests: phantom series in memory, volumes built from them,
// and editing a file's dataset with DCMTK.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
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

// One stored sample of the native YBR_FULL_422 cine below: c is 0 (Y, per pixel), 1 (Cb) or 2
// (Cr, per pair of pixels: the same for x and x ^ 1). Covers 0..255 in each.
inline std::uint8_t Ybr422Sample(int frame, int y, int x, int c) {
  if (c == 0) return static_cast<std::uint8_t>((x * 9 + y * 5 + frame * 17) % 256);
  const int pair = x / 2;
  return static_cast<std::uint8_t>(c == 1 ? (pair * 23 + y * 7 + frame * 3 + 40) % 256
                                          : (pair * 11 + y * 13 + frame * 29 + 90) % 256);
}

// The ultrasound cine phantom with its pixel data replaced by native YBR_FULL_422 (PS3.3
// C.7.6.3.1.2: Y1 Y2 Cb Cr for each pair of pixels in a row; `cols` even) from Ybr422Sample.
inline Bytes Ybr422Cine(int frames, int rows, int cols) {
  auto us = MakeUltrasoundCinePhantom(frames, rows, cols, /*ybr_planar=*/false, 3);
  EXPECT_TRUE(us.ok()) << us.status().ToString();
  EXPECT_EQ(cols % 2, 0);
  if (!us.ok()) return {};
  std::vector<Uint8> packed;
  for (int f = 0; f < frames; ++f) {
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; x += 2) {
        for (int s : {0, 1}) packed.push_back(Ybr422Sample(f, y, x + s, 0));
        for (int c : {1, 2}) packed.push_back(Ybr422Sample(f, y, x, c));
      }
    }
  }
  return Modify(*us, [&](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PhotometricInterpretation, "YBR_FULL_422");
    ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
    ds.putAndInsertUint8Array(DCM_PixelData, packed.data(), static_cast<unsigned long>(packed.size()));
  });
}

// Native YBR_FULL_422 with an odd number of Columns (rows * cols even), its Y1 Y2 Cb Cr
// groups running on from one row into the next, as a writer that ignores rows stores them: a
// layout PS3.3 C.7.6.3.1.2 does not define (it pairs the pixels of each row).
inline Bytes Ybr422OddColumnsCine(int frames, int rows, int cols) {
  EXPECT_EQ(cols % 2, 1);
  EXPECT_EQ(rows % 2, 0);
  auto us = MakeUltrasoundCinePhantom(frames, rows, cols, /*ybr_planar=*/false, 3);
  EXPECT_TRUE(us.ok()) << us.status().ToString();
  if (!us.ok()) return {};
  std::vector<Uint8> packed(std::size_t(frames) * rows * cols * 2);
  for (std::size_t i = 0; i < packed.size(); ++i) packed[i] = static_cast<Uint8>(i % 4 < 2 ? i * 7 % 256 : 128);
  return Modify(*us, [&](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PhotometricInterpretation, "YBR_FULL_422");
    ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
    ds.putAndInsertUint8Array(DCM_PixelData, packed.data(), static_cast<unsigned long>(packed.size()));
  });
}

}  // namespace caliper::dicom::testing
