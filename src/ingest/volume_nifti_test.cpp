#include "caliper/ingest/volume_nifti.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/phantom.h"

namespace caliper::ingest {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

dicom::CtPhantomOptions Landmarked() {
  dicom::CtPhantomOptions o;
  o.slices = 6;
  o.rows = 30;
  o.cols = 44;
  o.pixel_spacing_mm = 0.8;
  o.slice_thickness_mm = 3;
  o.landmarks = true;
  o.seed = 21;
  return o;
}

dicom::Volume MustBuild(const dicom::CtPhantomOptions& o) {
  auto files = dicom::MakeCtPhantomSeries(o);
  EXPECT_TRUE(files.ok());
  std::vector<std::span<const std::uint8_t>> spans(files->begin(), files->end());
  auto v = dicom::BuildVolume(spans);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : dicom::Volume{};
}

std::array<double, 3> ApplyRows(const std::array<std::array<double, 4>, 3>& m, double i, double j,
                                double k) {
  std::array<double, 3> out{};
  for (int r = 0; r < 3; ++r) out[r] = m[r][0] * i + m[r][1] * j + m[r][2] * k + m[r][3];
  return out;
}

TEST(VolumeNiftiTest, LandmarksKeepTheirVoxelsAndLandAtRasCoordinates) {
  const dicom::CtPhantomOptions o = Landmarked();
  const dicom::Volume volume = MustBuild(o);
  auto bytes = VolumeToNifti(volume);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ((*bytes)[0], 0x1f);  // gzip
  auto decoded = DecodeNifti(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 1u);
  const NiftiVolume& nifti = decoded->front();
  EXPECT_EQ(nifti.geometry.dims, (std::array<std::int64_t, 3>{44, 30, 6}));
  EXPECT_EQ(nifti.values, volume.values);  // int16 HU, exact
  EXPECT_EQ(nifti.geometry.sform_code, 1);
  EXPECT_EQ(nifti.geometry.qform_code, 1);
  const auto affine = BestAffine(nifti.geometry);
  for (const dicom::PhantomLandmark& l : dicom::PhantomLandmarks(o)) {
    const std::size_t index = (static_cast<std::size_t>(l.k) * 30 + l.j) * 44 + l.i;
    EXPECT_EQ(nifti.values[index], l.hu);
    const auto ras = ApplyRows(affine, l.i, l.j, l.k);
    EXPECT_NEAR(ras[0], -l.lps[0], 1e-4);
    EXPECT_NEAR(ras[1], -l.lps[1], 1e-4);
    EXPECT_NEAR(ras[2], l.lps[2], 1e-4);
  }
  // The qform alone gives the same affine.
  NiftiGeometry q = nifti.geometry;
  q.sform_code = 0;
  const auto from_q = BestAffine(q);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(from_q[r][c], affine[r][c], 1e-4);
    }
  }
}

TEST(VolumeNiftiTest, NonIntegralValuesAreFloat32AndShearOnlyInTheSform) {
  dicom::Volume volume = MustBuild(Landmarked());
  volume.values[5] = 0.25f;
  volume.lps[1][2] = 0.9;  // a sheared third column (as for a gantry tilt)
  auto bytes = VolumeToNifti(volume, /*gzip=*/false);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes->data()) + 344, 3), "n+1");
  auto decoded = DecodeNifti(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->front().values[5], 0.25f);
  EXPECT_EQ(decoded->front().geometry.qform_code, 0);
  EXPECT_NEAR(BestAffine(decoded->front().geometry)[1][2], -0.9, 1e-6);
}

// nibabel, the reference reader, agrees on the affine and the landmark values.
TEST(VolumeNiftiTest, NibabelAgrees) {
  if (!fs::exists(CALIPER_PYTHON)) {
    if (SampleDataRequired()) FAIL() << CALIPER_PYTHON << " with nibabel (Debian python3-nibabel) is required";
    GTEST_SKIP() << CALIPER_PYTHON << " missing";
  }
  const dicom::CtPhantomOptions o = Landmarked();
  for (bool sheared : {false, true}) {
    dicom::Volume volume = MustBuild(o);
    if (sheared) volume.lps[1][2] = 0.9;
    auto bytes = VolumeToNifti(volume);
    ASSERT_TRUE(bytes.ok());
    const fs::path dir = fs::temp_directory_path() / ("caliper_nib_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "v.nii.gz").string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()),
                                                static_cast<std::streamsize>(bytes->size()));
    std::string cmd = std::string(CALIPER_PYTHON) + " " + CALIPER_SOURCE_DIR +
                      "/tests/imaging/nibabel_check.py " + path;
    const auto landmarks = dicom::PhantomLandmarks(o);
    for (const auto& l : landmarks) {
      cmd += " " + std::to_string(l.i) + "," + std::to_string(l.j) + "," + std::to_string(l.k);
    }
    cmd += " > " + (dir / "out.json").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(dir / "out.json");
    const auto j = nlohmann::json::parse(in);
    fs::remove_all(dir);
    EXPECT_EQ(j["shape"], nlohmann::json({44, 30, 6}));
    EXPECT_EQ(j["sform_code"], 1);
    EXPECT_EQ(j["qform_code"], sheared ? 0 : 1);
    if (!sheared) {
      EXPECT_EQ(j["axcodes"], "LPS");  // i -> left, j -> posterior, k -> superior
    }
    const dicom::Affine ras = volume.RasAffine();
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < 4; ++c) {
        EXPECT_NEAR(j["affine"][r][c].get<double>(), ras[r][c], 1e-4) << r << c;
      }
    }
    for (std::size_t n = 0; n < landmarks.size(); ++n) EXPECT_EQ(j["values"][n], landmarks[n].hu);
  }
}

}  // namespace
}  // namespace caliper::ingest
