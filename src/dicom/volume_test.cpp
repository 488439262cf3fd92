#include "caliper/dicom/volume.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/phantom.h"
#include "dicom/codecs.h"
#include "dicom/test_support.h"

namespace caliper::dicom {
namespace {

using testing::Build;
using testing::Bytes;
using testing::Modify;
using testing::Series;

CtPhantomOptions Landmarked() {
  CtPhantomOptions o;
  o.slices = 7;
  o.rows = 40;
  o.cols = 56;
  o.pixel_spacing_mm = 0.7;
  o.slice_thickness_mm = 2.5;
  o.landmarks = true;
  o.seed = 11;
  return o;
}

void SetZ(Bytes& bytes, double z) {
  bytes = Modify(bytes, [z](DcmDataset& ds) {
    Float64 x = 0, y = 0;
    ds.findAndGetFloat64(DCM_ImagePositionPatient, x, 0);
    ds.findAndGetFloat64(DCM_ImagePositionPatient, y, 1);
    ds.putAndInsertString(DCM_ImagePositionPatient,
                          (std::to_string(x) + "\\" + std::to_string(y) + "\\" + std::to_string(z)).c_str());
  });
}

void ExpectLandmarks(const Volume& v, const CtPhantomOptions& o) {
  for (const PhantomLandmark& l : PhantomLandmarks(o)) {
    EXPECT_EQ(v.At(l.i, l.j, l.k), l.hu) << l.i << "," << l.j << "," << l.k;
    const auto p = Apply(v.lps, l.i, l.j, l.k);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(p[c], l.lps[c], 1e-6);
  }
}

TEST(VolumeTest, PhantomLandmarksLandOnTheirVoxelsWhateverTheFileOrder) {
  const CtPhantomOptions o = Landmarked();
  std::vector<Bytes> files = Series(o);
  std::shuffle(files.begin(), files.end(), std::mt19937(5));
  auto v = Build(files);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->dims, (std::array<int, 3>{56, 40, 7}));
  EXPECT_NEAR(v->spacing_mm[0], 0.7, 1e-9);
  EXPECT_NEAR(v->spacing_mm[2], 2.5, 1e-9);
  EXPECT_TRUE(v->warnings.empty());
  EXPECT_NEAR(v->gantry_tilt_deg, 0, 1e-9);
  EXPECT_EQ(v->modality, "CT");
  ASSERT_EQ(v->slices.size(), 7u);
  ExpectLandmarks(*v, o);
  // Rescale applied (HU), slices in ascending z, sources in that order.
  EXPECT_EQ(v->At(0, 0, 0), kPhantomAirHu);
  for (int k = 0; k < 7; ++k) EXPECT_NEAR(Apply(v->lps, 0, 0, k)[2], 2.5 * k, 1e-9);
  EXPECT_EQ(v->slices[0].sop_instance_uid, DeriveUid(11, "sop/0"));
  // RAS: x and y negated.
  const auto ras = Apply(v->RasAffine(), 1, 2, 0);
  const auto lps = Apply(v->lps, 1, 2, 0);
  EXPECT_DOUBLE_EQ(ras[0], -lps[0]);
  EXPECT_DOUBLE_EQ(ras[1], -lps[1]);
  EXPECT_DOUBLE_EQ(ras[2], lps[2]);
}

TEST(VolumeTest, CompressedSeriesAndEnhancedMultiFrameGiveTheSameVolume) {
  const CtPhantomOptions o = Landmarked();
  std::vector<Bytes> files = Series(o);
  for (Bytes& f : files) {
    auto j2k = Transcode(f, "1.2.840.10008.1.2.4.90");
    ASSERT_TRUE(j2k.ok());
    f = *j2k;
  }
  auto v = Build(files);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ExpectLandmarks(*v, o);

  auto enhanced = MakeEnhancedCtPhantom(o);
  ASSERT_TRUE(enhanced.ok());
  auto e = Build({*enhanced});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->values, v->values);
  EXPECT_EQ(e->slices.front().frame, 7);  // the lowest slice is the last frame
  ExpectLandmarks(*e, o);
}

TEST(VolumeTest, ReportsGapsIrregularSpacingDuplicatesAndMixturesInsteadOfFusing) {
  const CtPhantomOptions o = Landmarked();
  auto message = [](const Result<Volume>& v) {
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), ErrorCode::kInvalidArgument);
    return v.status().message();
  };
  {
    std::vector<Bytes> files = Series(o);
    files.erase(files.begin() + 3);
    EXPECT_NE(message(Build(files)).find("gap: 1 missing slice(s) between 5.000 and 10.000"),
              std::string::npos);
  }
  {
    std::vector<Bytes> files = Series(o);
    SetZ(files[4], 10.9);
    EXPECT_NE(message(Build(files)).find("irregular slice spacing"), std::string::npos);
  }
  {
    std::vector<Bytes> files = Series(o);
    SetZ(files[4], 7.5);
    EXPECT_NE(message(Build(files)).find("share a position"), std::string::npos);
  }
  {
    std::vector<Bytes> files = Series(o);
    files[2] = Modify(files[2], [](DcmDataset& ds) {
      ds.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\0\\-1");
    });
    EXPECT_NE(message(Build(files)).find("mixed orientations"), std::string::npos);
  }
  {
    std::vector<Bytes> files = Series(o);
    CtPhantomOptions other = o;
    other.rows = 32;
    other.seed = 99;
    files[1] = Series(other)[1];
    const std::string m = message(Build(files));
    EXPECT_NE(m.find("inconsistent dimensions"), std::string::npos) << m;
    EXPECT_NE(m.find("2 different series"), std::string::npos) << m;
  }
  {
    std::vector<Bytes> files = Series(o);
    files[3] = Bytes{1, 2, 3};
    const std::string m = message(Build(files));
    EXPECT_EQ(m.rfind("instance 3: ", 0), 0u) << m;
  }
  auto cine = MakeUltrasoundCinePhantom(2, 16, 16, false, 1);
  ASSERT_TRUE(cine.ok());
  EXPECT_EQ(Build({*cine}).status().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(Build({}).status().code(), ErrorCode::kInvalidArgument);
}

TEST(VolumeTest, GantryTiltIsKeptAsAShearedAffineAndReported) {
  CtPhantomOptions o = Landmarked();
  std::vector<Bytes> files = Series(o);
  const double shift = std::tan(10.0 * M_PI / 180.0) * 2.5;  // 10 degrees
  for (int k = 0; k < o.slices; ++k) {
    files[k] = Modify(files[k], [&](DcmDataset& ds) {
      Float64 x = 0, y = 0, z = 0;
      ds.findAndGetFloat64(DCM_ImagePositionPatient, x, 0);
      ds.findAndGetFloat64(DCM_ImagePositionPatient, y, 1);
      ds.findAndGetFloat64(DCM_ImagePositionPatient, z, 2);
      const std::string v = std::to_string(x) + "\\" + std::to_string(y + k * shift) + "\\" + std::to_string(z);
      ds.putAndInsertString(DCM_ImagePositionPatient, v.c_str());
    });
  }
  auto v = Build(files);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_NEAR(v->gantry_tilt_deg, 10.0, 1e-3);
  ASSERT_EQ(v->warnings.size(), 1u);
  EXPECT_NE(v->warnings[0].find("gantry tilt"), std::string::npos);
  EXPECT_NEAR(v->lps[1][2], shift, 1e-6);  // the shear
  EXPECT_NEAR(v->spacing_mm[2], 2.5, 1e-6);
  VolumeOptions strict;
  strict.allow_gantry_tilt = false;
  EXPECT_NE(Build(files, strict).status().message().find("gantry tilt"), std::string::npos);
}

DecodedImage Decoded(const Bytes& bytes) {
  auto image = DecodeImage(bytes);
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return image.ok() ? *image : DecodedImage{};
}

// The first slice of the phantom `o` varied by `vary`, as one odd instance of the series.
DecodedImage Odd(CtPhantomOptions o, const std::function<void(CtPhantomOptions&)>& vary) {
  o.sop_label = "odd";
  vary(o);
  return Decoded(Series(o).at(3));
}

TEST(SeriesGeometryTest, RefusesWhatCannotJoinTheVolumeAndKeepsWhatAnotherUploadMayComplete) {
  const CtPhantomOptions o = Landmarked();  // 56x40, 0.7 mm, slices 2.5 mm apart along z
  const std::vector<Bytes> files = Series(o);
  SeriesGeometry series;
  EXPECT_TRUE(series.empty());
  for (int k : {0, 1, 2, 4}) ASSERT_TRUE(series.Add(Decoded(files[k])).ok()) << k;  // a gap at 3: kept
  EXPECT_FALSE(series.empty());
  EXPECT_TRUE(series.settled());
  auto refusal = [&](const DecodedImage& image) {
    Status s = series.Add(image);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    return s.message();
  };
  EXPECT_EQ(refusal(Odd(o, [](CtPhantomOptions& v) { v.rows = v.cols = 32; })), "32x32, the series is 56x40");
  EXPECT_EQ(refusal(Odd(o, [](CtPhantomOptions& v) { v.orientation = "1\\0\\0\\0\\0\\-1"; })),
            "Image Orientation (Patient) 1\\0\\0\\0\\0\\-1, the series' is 1\\0\\0\\0\\1\\0");
  const std::string other_frame = refusal(Odd(o, [](CtPhantomOptions& v) { v.frame_of_reference_label = "x"; }));
  EXPECT_EQ(other_frame, "Frame of Reference UID " + DeriveUid(11, "x") + ", the series' is " +
                             DeriveUid(11, "frame_of_reference"));
  EXPECT_EQ(refusal(Odd(o, [](CtPhantomOptions& v) { v.pixel_spacing_mm = 0.8; })),
            "Pixel Spacing 0.8\\0.8 mm, the series' is 0.7\\0.7 mm");
  const std::string off = refusal(Odd(o, [](CtPhantomOptions& v) { v.offset_mm = {12, 0, 0}; }));
  EXPECT_NE(off.find("lies 12.000 mm off the line of the series' slice positions"), std::string::npos) << off;
  const Bytes no_position = Modify(files[3], [](DcmDataset& ds) { ds.findAndDeleteElement(DCM_ImagePositionPatient); });
  EXPECT_EQ(refusal(Decoded(no_position)), "no Image Position/Orientation (Patient) or Pixel Spacing, the series has them");
  auto cine = MakeUltrasoundCinePhantom(2, 40, 56, false, 1);
  ASSERT_TRUE(cine.ok());
  EXPECT_EQ(refusal(Decoded(*cine)), "frame 1: colour, the series is greyscale");

  // Within BuildVolume's tolerances, and what only more instances settle, is taken: the missing
  // slice, a slice at an irregular step, a second one at an occupied position, an orientation
  // off by less than 1e-3.
  EXPECT_TRUE(series.Add(Decoded(files[3])).ok());
  Bytes irregular = files[5];
  SetZ(irregular, 13.1);
  EXPECT_TRUE(series.Add(Decoded(irregular)).ok());
  EXPECT_TRUE(series.Add(Odd(o, [](CtPhantomOptions&) {})).ok()) << "another instance at slice 3's position";
  EXPECT_TRUE(series.Add(Odd(o, [](CtPhantomOptions& v) { v.orientation = "1\\0\\0\\0\\0.9999995\\0.0005"; })).ok());
  // Without a known line a second position may lean against the normal (gantry tilt), and
  // then fixes the line.
  SeriesGeometry tilted;
  ASSERT_TRUE(tilted.Add(Decoded(files[0])).ok());
  EXPECT_FALSE(tilted.settled());
  const double shift = std::tan(20.0 * M_PI / 180.0) * 2.5;  // 20 degrees
  EXPECT_TRUE(tilted.Add(Odd(o, [&](CtPhantomOptions& v) { v.offset_mm = {0, shift * 3, 0}; })).ok());
  EXPECT_TRUE(tilted.settled());
  EXPECT_FALSE(tilted.Add(Decoded(files[1])).ok()) << "off the tilted line";
  // A series without geometry takes only instances without it.
  SeriesGeometry bare;
  ASSERT_TRUE(bare.Add(Decoded(no_position)).ok());
  EXPECT_TRUE(bare.settled());
  EXPECT_EQ(bare.Add(Decoded(files[0])).message(), "Image Position/Orientation (Patient) and Pixel Spacing, the series has none");
  // The key ingest starts a new series from: alike for slices of one series, not for odd ones.
  EXPECT_EQ(SeriesGeometryKey(Decoded(files[0])), SeriesGeometryKey(Decoded(files[6])));
  EXPECT_NE(SeriesGeometryKey(Decoded(files[0])),
            SeriesGeometryKey(Odd(o, [](CtPhantomOptions& v) { v.orientation = "1\\0\\0\\0\\0\\-1"; })));
}

std::vector<Bytes> SampleSeries(const std::string& folder) {
  auto readme = SampleDataFile("dicom-series/README.md");
  if (!readme) return {};
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(*readme).parent_path() / folder))
    paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  std::vector<Bytes> out;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

#define REQUIRE_SAMPLES(files)                                                     \
  if ((files).empty()) {                                                           \
    if (SampleDataRequired()) FAIL() << "sample data missing (CALIPER_SAMPLE_DATA)"; \
    GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";                                 \
  }

TEST(VolumeTest, SampleSeries) {
  const auto mr = SampleSeries("mr-t1-sag-dcm_qa_decubitus");
  REQUIRE_SAMPLES(mr);
  auto v = Build(mr);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->dims, (std::array<int, 3>{256, 256, 35}));
  EXPECT_NEAR(v->spacing_mm[2], 4.8, 0.01);
  EXPECT_NEAR(v->gantry_tilt_deg, 0, 0.05);
  // Sagittal (IOP 0\1\0\0\0\-1): the slice normal is along x.
  EXPECT_NEAR(std::abs(v->lps[0][2]), 4.8, 0.01);

  const auto ct = SampleSeries("ct-abdomen-totalsegmentator");
  auto c = Build(ct);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->dims, (std::array<int, 3>{512, 512, 20}));
  EXPECT_NEAR(c->spacing_mm[2], 2.0, 0.01);
  EXPECT_TRUE(c->series_instance_uid.empty());  // empty in these files on purpose

  // The GE head CT: tilted 18.5 degrees and spaced 4 mm, then 7 mm: refused, naming both.
  auto ge = SampleSeries("ct-head-gantry-tilt-dcm_qa_ct");
  VolumeOptions strict;
  strict.allow_gantry_tilt = false;
  auto g = Build(ge, strict);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("irregular slice spacing"), std::string::npos);
  auto g2 = Build(ge);
  EXPECT_FALSE(g2.ok());
  // Its first 14 slices are one regular tilted stack.
  ge.resize(14);
  auto tilted = Build(ge);
  ASSERT_TRUE(tilted.ok()) << tilted.status().ToString();
  EXPECT_NEAR(tilted->gantry_tilt_deg, 18.5, 0.05);
  EXPECT_NEAR(tilted->spacing_mm[2], 4.0, 0.01);
  EXPECT_FALSE(tilted->warnings.empty());
  EXPECT_NE(Build(ge, strict).status().message().find("18.50 degrees"), std::string::npos);
}

}  // namespace
}  // namespace caliper::dicom
