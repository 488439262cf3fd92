#include "caliper/ingest/nifti_io.h"

#include <nifti2_io.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "caliper/common/sample_data.h"

namespace caliper::ingest {
namespace {

namespace fs = std::filesystem;

class NiftiIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("caliper_nifti_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

NiftiGeometry Oblique() {
  NiftiGeometry g;
  g.dims = {4, 3, 2};
  g.pixdim = {0.8, 0.9, 2.5};
  g.spacing_mm = {0.8, 0.9, 2.5};
  g.xyz_units = NIFTI_UNITS_MM;
  g.qform_code = 1;
  g.sform_code = 2;
  g.quatern = {0.1, 0.2, 0.3, -10, 20, 30.5};
  g.qfac = -1;
  g.srow = {{{0.8, 0.01, 0, -10}, {0, 0.9, 0.02, 20}, {0.03, 0, 2.5, 30.5}}};
  return g;
}

TEST_F(NiftiIoTest, Uint8RoundTripKeepsGeometry) {
  NiftiGeometry g = Oblique();
  std::vector<std::uint8_t> labels(24);
  for (int i = 0; i < 24; ++i) labels[i] = static_cast<std::uint8_t>(i * 10);
  for (std::string name : {"mask.nii", "mask.nii.gz"}) {
    ASSERT_TRUE(WriteNiftiUint8(Path(name), g, labels).ok()) << name;
    auto read = ReadNiftiLabelMap(Path(name));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->labels, labels);
    const auto& r = read->geometry;
    EXPECT_EQ(r.dims, g.dims);
    for (int d = 0; d < 3; ++d) EXPECT_NEAR(r.spacing_mm[d], g.spacing_mm[d], 1e-6);
    EXPECT_EQ(r.qform_code, 1);
    EXPECT_EQ(r.sform_code, 2);
    EXPECT_EQ(r.qfac, -1);
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(r.quatern[k], g.quatern[k], 1e-5) << k;
    for (int row = 0; row < 3; ++row) {
      for (int c = 0; c < 4; ++c) EXPECT_NEAR(r.srow[row][c], g.srow[row][c], 1e-5);
    }
  }
  EXPECT_LT(fs::file_size(Path("mask.nii.gz")), fs::file_size(Path("mask.nii")));
}

TEST_F(NiftiIoTest, Float32RoundTrip) {
  NiftiGeometry g = Oblique();
  std::vector<float> values(24);
  for (int i = 0; i < 24; ++i) values[i] = 0.25f * i - 1.0f;
  ASSERT_TRUE(WriteNiftiFloat32(Path("p.nii.gz"), g, values).ok());
  auto read = ReadNiftiVolume(Path("p.nii.gz"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->values, values);
  // Not integers 0..255: not a label map.
  auto labels = ReadNiftiLabelMap(Path("p.nii.gz"));
  ASSERT_FALSE(labels.ok());
  EXPECT_NE(labels.status().message().find("not a label map"), std::string::npos);
}

TEST_F(NiftiIoTest, Float32VolumesEncodeAs4DAndDecodeInOrder) {
  NiftiGeometry g = Oblique();
  std::vector<float> values(48);
  for (int i = 0; i < 48; ++i) values[i] = 0.5f * i;
  auto bytes = EncodeNiftiFloat32Volumes(g, values, 2, /*gzip=*/true);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto again = EncodeNiftiFloat32Volumes(g, values, 2, /*gzip=*/true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*bytes, *again);  // deterministic: no timestamp in the gzip header
  auto volumes = DecodeNifti(*bytes);
  ASSERT_TRUE(volumes.ok()) << volumes.status().ToString();
  ASSERT_EQ(volumes->size(), 2u);
  EXPECT_EQ((*volumes)[0].values, std::vector<float>(values.begin(), values.begin() + 24));
  EXPECT_EQ((*volumes)[1].values, std::vector<float>(values.begin() + 24, values.end()));
  EXPECT_EQ((*volumes)[1].geometry.dims, g.dims);
  EXPECT_EQ(EncodeNiftiFloat32Volumes(g, values, 3, true).status().code(), ErrorCode::kInvalidArgument);
}

// Writes an int16 volume with scl_slope/scl_inter and metre units through nifti2 directly.
void WriteScaledInt16(const std::string& path, const std::int64_t (&dims)[8]) {
  nifti_image* nim = nifti_make_new_nim(dims, NIFTI_TYPE_INT16, 1);
  auto* data = static_cast<std::int16_t*>(nim->data);
  for (std::int64_t i = 0; i < nim->nvox; ++i) data[i] = static_cast<std::int16_t>(i - 3);
  nim->scl_slope = 0.5;
  nim->scl_inter = 10;
  nim->xyz_units = NIFTI_UNITS_METER;
  nim->dx = nim->pixdim[1] = 0.001;
  nim->dy = nim->pixdim[2] = 0.002;
  nim->dz = nim->pixdim[3] = 0.003;
  ASSERT_EQ(nifti_set_filenames(nim, path.c_str(), 0, 1), 0);
  nifti_image_write(nim);
  nifti_image_free(nim);
}

TEST_F(NiftiIoTest, AppliesScalingAndUnits) {
  const std::int64_t dims[8] = {3, 3, 2, 2, 1, 1, 1, 1};
  WriteScaledInt16(Path("ct.nii"), dims);
  auto read = ReadNiftiVolume(Path("ct.nii"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->values.size(), 12u);
  EXPECT_FLOAT_EQ(read->values[0], 0.5f * -3 + 10);
  EXPECT_FLOAT_EQ(read->values[11], 0.5f * 8 + 10);
  EXPECT_NEAR(read->geometry.spacing_mm[0], 1.0, 1e-6);
  EXPECT_NEAR(read->geometry.spacing_mm[2], 3.0, 1e-6);
}

TEST_F(NiftiIoTest, ClearErrors) {
  auto missing = ReadNiftiVolume(Path("nope.nii.gz"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);

  {
    std::FILE* f = std::fopen(Path("junk.nii").c_str(), "wb");
    std::fputs("this is not a NIfTI header", f);
    std::fclose(f);
  }
  auto junk = ReadNiftiVolume(Path("junk.nii"));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), ErrorCode::kInvalidArgument);

  const std::int64_t dims4[8] = {4, 2, 2, 2, 3, 1, 1, 1};
  WriteScaledInt16(Path("series.nii"), dims4);
  auto series = ReadNiftiVolume(Path("series.nii"));
  ASSERT_FALSE(series.ok());
  EXPECT_NE(series.status().message().find("not a 3D volume"), std::string::npos);
  // ReadNiftiVolumes takes 4D: one volume per time point, scaled.
  auto times = ReadNiftiVolumes(Path("series.nii"));
  ASSERT_TRUE(times.ok()) << times.status().ToString();
  ASSERT_EQ(times->size(), 3u);
  EXPECT_FLOAT_EQ((*times)[2].values[7], 0.5f * (16 + 7 - 3) + 10);
  const std::int64_t dims5[8] = {5, 2, 2, 2, 1, 2, 1, 1};
  WriteScaledInt16(Path("five.nii"), dims5);
  EXPECT_EQ(ReadNiftiVolumes(Path("five.nii")).status().code(), ErrorCode::kUnsupported);

  NiftiGeometry g = Oblique();
  std::vector<std::uint8_t> wrong(5);
  EXPECT_FALSE(WriteNiftiUint8(Path("w.nii"), g, wrong).ok());
  std::vector<std::uint8_t> right(24);
  EXPECT_FALSE(WriteNiftiUint8(Path("w.txt"), g, right).ok());
  auto unwritable = WriteNiftiUint8(Path("no/such/dir/w.nii"), g, right);
  ASSERT_FALSE(unwritable.ok());
  EXPECT_EQ(unwritable.code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace caliper::ingest

// ---- public sample files (../shared/data/nifti, found through CALIPER_SAMPLE_DATA) ----------

namespace caliper::ingest {
namespace {

// Returns the sample file's path; fails the test when CI requires the data and it is missing.
std::optional<std::string> Sample(const std::string& relative) {
  auto path = SampleDataFile(relative);
  if (!path && SampleDataRequired()) {
    ADD_FAILURE() << "sample file " << relative << " is required (CALIPER_REQUIRE_SAMPLE_DATA=1) but "
                  << "not found under CALIPER_SAMPLE_DATA";
  }
  return path;
}

TEST(NiftiSampleTest, ReadsTheBigEndianNibabelAnatomy) {
  auto path = Sample("nifti/nibabel_anatomical.nii");
  if (!path) GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
  auto volume = ReadNiftiVolume(*path);
  ASSERT_TRUE(volume.ok()) << volume.status().ToString();
  // nibabel's tests/data/anatomical.nii: 33 x 41 x 25 voxels of 2 mm, big-endian int16.
  EXPECT_EQ(volume->geometry.dims, (std::array<std::int64_t, 3>{33, 41, 25}));
  EXPECT_DOUBLE_EQ(volume->geometry.spacing_mm[0], 2.0);
  EXPECT_DOUBLE_EQ(volume->geometry.spacing_mm[2], 2.0);
  ASSERT_EQ(volume->values.size(), 33u * 41u * 25u);
  float max = 0;
  for (float v : volume->values) max = std::max(max, v);
  EXPECT_GT(max, 0.0f) << "byte-swapped correctly: the anatomy is not all zero";
  EXPECT_LT(max, 32768.0f);
}

std::vector<std::uint8_t> FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every sample decodes from memory exactly as nifti2 reads it from the file; 4D files give one
// volume per time point.
TEST(NiftiSampleTest, DecodeFromMemoryMatchesTheFileReader) {
  struct Case {
    std::string name;
    std::size_t volumes;
  };
  for (const Case& c : std::vector<Case>{{"nibabel_anatomical.nii", 1},
                                         {"nibabel_example4d.nii.gz", 2},
                                         {"nibabel_example_nifti2.nii.gz", 2},
                                         {"mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz", 1},
                                         {"totalseg_example_ct_sm.nii.gz", 1},
                                         {"totalseg_example_seg.nii.gz", 1},
                                         {"totalseg_example_seg_dicom.nii.gz", 1},
                                         {"totalseg_example_mr_sm.nii.gz", 1},
                                         {"totalseg_example_seg_mr.nii.gz", 1}}) {
    auto path = Sample("nifti/" + c.name);
    if (!path) GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
    auto from_file = ReadNiftiVolumes(*path);
    ASSERT_TRUE(from_file.ok()) << c.name << ": " << from_file.status().ToString();
    const auto bytes = FileBytes(*path);
    auto from_memory = DecodeNifti(bytes);
    ASSERT_TRUE(from_memory.ok()) << c.name << ": " << from_memory.status().ToString();
    ASSERT_EQ(from_file->size(), c.volumes) << c.name;
    ASSERT_EQ(from_memory->size(), c.volumes) << c.name;
    for (std::size_t t = 0; t < c.volumes; ++t) {
      EXPECT_EQ((*from_memory)[t].values, (*from_file)[t].values) << c.name;
      EXPECT_EQ((*from_memory)[t].geometry.dims, (*from_file)[t].geometry.dims);
      const auto a = BestAffine((*from_memory)[t].geometry);
      const auto b = BestAffine((*from_file)[t].geometry);
      for (int r = 0; r < 3; ++r) {
        for (int k = 0; k < 4; ++k) {
          EXPECT_NEAR(a[r][k], b[r][k], 1e-5) << c.name;
        }
      }
    }
    if (c.volumes == 2) {
      EXPECT_NE((*from_file)[0].values, (*from_file)[1].values) << c.name;
    }
    // Truncated and garbage input is an error, never a crash.
    const std::vector<std::uint8_t> half(bytes.begin(), bytes.begin() + bytes.size() / 2);
    EXPECT_EQ(DecodeNifti(half).status().code(), ErrorCode::kInvalidArgument) << c.name;
  }
  const std::vector<std::uint8_t> junk(400, 0x41);
  EXPECT_EQ(DecodeNifti(junk).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeNifti({}).status().code(), ErrorCode::kInvalidArgument);
  // A voxel limit refuses a volume before decoding it.
  auto path = Sample("nifti/totalseg_example_ct_sm.nii.gz");
  if (path) {
    auto limited = DecodeNifti(FileBytes(*path), 1000);
    EXPECT_NE(limited.status().message().find("exceeds the limit"), std::string::npos)
        << limited.status().message();
  }
}

TEST(NiftiSampleTest, ReadsTheCompressedMniTemplate) {
  auto path = Sample("nifti/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz");
  if (!path) GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
  auto volume = ReadNiftiVolume(*path);
  ASSERT_TRUE(volume.ok()) << volume.status().ToString();
  EXPECT_EQ(volume->geometry.dims, (std::array<std::int64_t, 3>{197, 233, 189}));
  EXPECT_DOUBLE_EQ(volume->geometry.spacing_mm[1], 1.0);
}

}  // namespace
}  // namespace caliper::ingest
