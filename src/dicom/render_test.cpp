#include "caliper/dicom/render.h"

#include <gtest/gtest.h>

#include <cmath>

#include "caliper/dicom/phantom.h"
#include "dicom/png.h"
#include "dicom/test_support.h"

namespace caliper::dicom {
namespace {

CtPhantomOptions Landmarked() {
  CtPhantomOptions o;
  o.slices = 7;
  o.rows = 40;
  o.cols = 56;
  o.pixel_spacing_mm = 0.7;
  o.slice_thickness_mm = 2.1;  // 3x the in-plane spacing
  o.landmarks = true;
  o.seed = 13;
  return o;
}

using testing::MustBuild;

// The DICOM linear VOI function (PS3.3 C.11.2.1.2.1) to 0..255, written out independently.
int Expected(double hu, double c, double w) {
  if (hu <= c - 0.5 - (w - 1) / 2) return 0;
  if (hu > c - 0.5 + (w - 1) / 2) return 255;
  return static_cast<int>(std::lround(((hu - (c - 0.5)) / (w - 1) + 0.5) * 255));
}

PngImage Png(const Volume& v, Plane plane, int index, const Window& w) {
  auto png = RenderSlicePng(v, plane, index, w);
  EXPECT_TRUE(png.ok()) << png.status().ToString();
  auto image = DecodePng(*png);
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->channels, 1);
  return *image;
}

int PixelAt(const PngImage& im, int x, int y) { return im.pixels[static_cast<std::size_t>(y) * im.width + x]; }

TEST(RenderTest, AxialSliceShowsLandmarksRadiologically) {
  const CtPhantomOptions o = Landmarked();
  const Volume v = MustBuild(o);
  const Window bone{400, 1800};
  ASSERT_EQ(SliceCount(v, Plane::kAxial), 7);
  for (const PhantomLandmark& l : PhantomLandmarks(o)) {
    const PngImage im = Png(v, Plane::kAxial, l.k, bone);  // index 0 = most inferior = k 0
    ASSERT_EQ(im.width, 56);
    ASSERT_EQ(im.height, 40);
    // Column i grows towards the patient's left = the image's right; row j towards posterior
    // = down. So the landmark is at (i, j).
    EXPECT_EQ(PixelAt(im, l.i, l.j), Expected(l.hu, 400, 1800));
    EXPECT_EQ(PixelAt(im, 0, 0), Expected(kPhantomAirHu, 400, 1800));
  }
  // The first landmark sits near the patient's right-anterior corner: image top-left.
  const PhantomLandmark first = PhantomLandmarks(o)[0];
  EXPECT_LT(first.i, 56 / 2);
  EXPECT_LT(first.j, 40 / 2);
  // The spine (bone, posterior) is in the lower half of the image.
  const PngImage mid = Png(v, Plane::kAxial, 3, bone);
  int bone_rows_low = 0, bone_rows_high = 0;
  for (int y = 0; y < mid.height; ++y) {
    for (int x = 0; x < mid.width; ++x) {
      if (PixelAt(mid, x, y) == Expected(kPhantomBoneHu, 400, 1800)) (y < 20 ? bone_rows_high : bone_rows_low)++;
    }
  }
  EXPECT_GT(bone_rows_low, 10);
  EXPECT_EQ(bone_rows_high, 0);
}

TEST(RenderTest, CoronalAndSagittalHaveSquarePixelsAndTheRightOrientation) {
  const CtPhantomOptions o = Landmarked();
  const Volume v = MustBuild(o);
  const Window w{400, 1800};
  ASSERT_EQ(SliceCount(v, Plane::kCoronal), 40);
  ASSERT_EQ(SliceCount(v, Plane::kSagittal), 56);
  for (const PhantomLandmark& l : PhantomLandmarks(o)) {
    // Coronal: index grows towards anterior (rows j grow posterior); superior at the top.
    auto coronal = RenderSlice(v, Plane::kCoronal, 40 - 1 - l.j, w);
    ASSERT_TRUE(coronal.ok());
    EXPECT_EQ(coronal->width, 56);
    EXPECT_EQ(coronal->height, 21);  // 7 slices of 2.1 mm at 0.7 mm per pixel
    EXPECT_NEAR(coronal->pixel_height_mm, 0.7, 1e-9);
    const int y = static_cast<int>((6 - l.k + 0.5) * 21 / 7);
    EXPECT_EQ(coronal->grey[static_cast<std::size_t>(y) * 56 + l.i], Expected(l.hu, 400, 1800));
    // Sagittal: index grows towards the left (= i); anterior (small j) on the image's left.
    auto sagittal = RenderSlice(v, Plane::kSagittal, l.i, w);
    ASSERT_TRUE(sagittal.ok());
    EXPECT_EQ(sagittal->width, 40);
    EXPECT_EQ(sagittal->grey[static_cast<std::size_t>(y) * 40 + l.j], Expected(l.hu, 400, 1800));
  }
  // Without square pixels: one row per slice, and the aspect is reported.
  RenderOptions raw;
  raw.square_pixels = false;
  auto unscaled = RenderSlice(v, Plane::kCoronal, 10, w, raw);
  ASSERT_TRUE(unscaled.ok());
  EXPECT_EQ(unscaled->height, 7);
  EXPECT_NEAR(unscaled->pixel_height_mm / unscaled->pixel_width_mm, 3.0, 1e-9);
}

TEST(RenderTest, WindowsAndPresets) {
  const Volume v = MustBuild(Landmarked());
  const int k = 3;
  // The same voxel under different presets.
  for (const auto& [name, hu] : std::vector<std::pair<std::string, int>>{
           {"ct-lung", kPhantomAirHu}, {"ct-abdomen", kPhantomLiverHu}, {"ct-brain", kPhantomSoftTissueHu},
           {"ct-bone", kPhantomBoneHu}, {"ct-mediastinum", kPhantomLesionHu}}) {
    auto w = PresetWindow(name, v);
    ASSERT_TRUE(w.ok()) << name;
    auto slice = RenderSlice(v, Plane::kAxial, k, *w);
    ASSERT_TRUE(slice.ok());
    bool found = false;
    for (std::size_t n = 0; n < slice->grey.size(); ++n) {
      if (v.values[static_cast<std::size_t>(k) * 56 * 40 + n] == hu) {
        EXPECT_EQ(slice->grey[n], Expected(hu, w->center, w->width)) << name;
        found = true;
      }
    }
    EXPECT_TRUE(found) << name;
  }
  EXPECT_EQ(Expected(kPhantomAirHu, -600, 1500), 60);  // the formula itself
  EXPECT_EQ(PresetWindow("ct-brain", v)->width, 80);
  EXPECT_EQ(PresetWindow("nope", v).status().code(), ErrorCode::kInvalidArgument);
  // mr-auto: 1st..99th percentile. The phantom is mostly air and soft tissue.
  const Window automatic = *PresetWindow("mr-auto", v);
  EXPECT_NEAR(automatic.center - automatic.width / 2, kPhantomAirHu, 1e-6);
  EXPECT_GT(automatic.center + automatic.width / 2, kPhantomSoftTissueHu - 1);
  // The series' own window comes first.
  EXPECT_EQ(DefaultWindow(v).center, 40);
  EXPECT_EQ(DefaultWindow(v).width, 400);
  Volume mr = v;
  mr.modality = "MR";
  mr.window_center.reset();
  EXPECT_EQ(DefaultWindow(mr).width, automatic.width);
  // Errors.
  EXPECT_EQ(RenderSlice(v, Plane::kAxial, 7, {40, 400}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(RenderSlice(v, Plane::kAxial, -1, {40, 400}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(RenderSlice(v, Plane::kAxial, 0, {40, 0}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParsePlane("coronal").value(), Plane::kCoronal);
  EXPECT_FALSE(ParsePlane("oblique").ok());
}

TEST(RenderTest, SagittalMrSampleIsOrientedFromItsAffine) {
  // A sagittal acquisition: its voxel k axis is the patient's x. Axial and coronal views come
  // out of the other voxel axes without error.
  Volume v;
  v.dims = {4, 5, 3};
  v.values.resize(60);
  for (std::size_t n = 0; n < 60; ++n) v.values[n] = static_cast<float>(n);
  // IOP 0\1\0\0\0\-1: i -> +y (posterior), j -> -z (inferior), k -> +x (left).
  v.lps = {{{0, 0, 2, 0}, {1, 0, 0, 0}, {0, -1, 0, 0}, {0, 0, 0, 1}}};
  EXPECT_EQ(SliceCount(v, Plane::kSagittal), 3);
  EXPECT_EQ(SliceCount(v, Plane::kAxial), 5);
  EXPECT_EQ(SliceCount(v, Plane::kCoronal), 4);
  RenderOptions raw;
  raw.square_pixels = false;
  auto sag = RenderSlice(v, Plane::kSagittal, 1, {30, 60}, raw);
  ASSERT_TRUE(sag.ok());
  // Sagittal shows the acquired slice k = 1 as stored: anterior (i = 0) left, superior (j = 0) top.
  EXPECT_EQ(sag->width, 4);
  EXPECT_EQ(sag->height, 5);
  EXPECT_EQ(sag->grey[0], Expected(v.At(0, 0, 1), 30, 60));
  EXPECT_EQ(sag->grey[4 * 4 + 3], Expected(v.At(3, 4, 1), 30, 60));
}

TEST(RenderFrame, AFrameIsDrawnAsStoredWithItsWindowAndColours) {
  DecodedImage grey;
  grey.rows = 2;
  grey.columns = 3;
  grey.frames = 2;
  grey.window_center = 50;
  grey.window_width = 100;
  grey.values = {0, 50, 100, -10, 25, 200,    // frame 0, row by row
                 100, 100, 100, 0, 0, 0};      // frame 1
  auto png = RenderFramePng(grey, 0);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  auto image = DecodePng(*png);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->width, 3);
  EXPECT_EQ(image->height, 2);
  ASSERT_EQ(image->channels, 1);
  EXPECT_EQ(image->pixels[0], 0) << "the window's bottom";
  EXPECT_EQ(image->pixels[2], 255) << "row 0, column 2: the top";
  EXPECT_EQ(image->pixels[3], 0) << "below the window";
  EXPECT_EQ(image->pixels[5], 255) << "above it";
  grey.kind = PixelKind::kMonochrome1;
  auto inverted = DecodePng(*RenderFramePng(grey, 1));
  ASSERT_TRUE(inverted.ok());
  EXPECT_EQ(inverted->pixels[0], 0) << "MONOCHROME1: large is dark";
  EXPECT_EQ(inverted->pixels[3], 255);
  EXPECT_EQ(RenderFramePng(grey, 2).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(RenderFramePng(grey, -1).status().code(), ErrorCode::kInvalidArgument);

  DecodedImage colour;
  colour.rows = 1;
  colour.columns = 2;
  colour.samples_per_pixel = 3;
  colour.kind = PixelKind::kRgb;
  colour.values = {255, 0, 10, 300, -4, 128};
  auto rgb = DecodePng(*RenderFramePng(colour, 0));
  ASSERT_TRUE(rgb.ok());
  ASSERT_EQ(rgb->channels, 3);
  EXPECT_EQ(rgb->pixels, (std::vector<std::uint8_t>{255, 0, 10, 255, 0, 128}));
}

}  // namespace
}  // namespace caliper::dicom
