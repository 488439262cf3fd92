// Deep Zoom arithmetic, the JPEG bridge, and the sample slide read through OpenSlide: its
// allow-listed properties, and tiles that match OpenSlide's own read of the same area.

#include "caliper/wsi/slide.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "caliper/common/sample_data.h"

namespace caliper::wsi {
namespace {

// Mean absolute difference per channel of two images of one size.
double MeanAbsDiff(const RgbImage& a, const RgbImage& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  if (a.pixels.size() != b.pixels.size() || a.pixels.empty()) return 1e9;
  double sum = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(int{a.pixels[i]} - int{b.pixels[i]});
  return sum / static_cast<double>(a.pixels.size());
}

TEST(DeepZoomTest, LevelsTilesAndOverlapsOfTheSampleSlidesSize) {
  const DeepZoom dz = DeepZoomFor(2220, 2967, 254, 1);
  // 2967 halves (rounding up) 12 times to 1: 13 levels, as vips dzsave makes them.
  EXPECT_EQ(dz.levels, 13);
  EXPECT_EQ(dz.LevelWidth(12), 2220);
  EXPECT_EQ(dz.LevelHeight(12), 2967);
  EXPECT_EQ(dz.LevelWidth(11), 1110);
  EXPECT_EQ(dz.LevelHeight(11), 1484);
  EXPECT_EQ(dz.LevelWidth(0), 1);
  EXPECT_EQ(dz.LevelHeight(0), 1);
  EXPECT_EQ(dz.Columns(12), 9);  // ceil(2220 / 254)
  EXPECT_EQ(dz.Rows(12), 12);    // ceil(2967 / 254)
  const auto first = dz.TileRect(12, 0, 0);
  EXPECT_EQ(first.x, 0);
  EXPECT_EQ(first.width, 255);  // 254 + overlap on the right only
  const auto inner = dz.TileRect(12, 1, 1);
  EXPECT_EQ(inner.x, 253);
  EXPECT_EQ(inner.y, 253);
  EXPECT_EQ(inner.width, 256);
  const auto last = dz.TileRect(12, 8, 11);
  EXPECT_EQ(last.x, 8 * 254 - 1);
  EXPECT_EQ(last.width, 2220 - 8 * 254 + 1);  // the remainder plus overlap on the left
  EXPECT_EQ(last.y, 11 * 254 - 1);
  EXPECT_EQ(last.height, 2967 - 11 * 254 + 1);
  // Levels 0..8 fit one tile each (level 8 is 139 x 186).
  std::int64_t expected = 9;
  for (int l = 9; l <= 12; ++l) expected += dz.Columns(l) * dz.Rows(l);
  EXPECT_EQ(dz.TileCount(), expected);
  EXPECT_EQ(dz.Columns(9) * dz.Rows(9), 2 * 2);  // 278 x 371
}

TEST(JpegTest, RoundTripsWithinJpegTolerance) {
  RgbImage image;
  image.width = 64;
  image.height = 48;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      image.pixels.push_back(static_cast<std::uint8_t>(x * 4));
      image.pixels.push_back(static_cast<std::uint8_t>(y * 5));
      image.pixels.push_back(static_cast<std::uint8_t>(128));
    }
  }
  auto jpeg = EncodeJpeg(image, 90);
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  ASSERT_GT(jpeg->size(), 4u);
  EXPECT_EQ((*jpeg)[0], 0xFF);
  EXPECT_EQ((*jpeg)[1], 0xD8);
  auto back = DecodeJpeg(*jpeg);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_LT(MeanAbsDiff(image, *back), 3.0);
  std::vector<std::uint8_t> garbage = {1, 2, 3, 4, 5};
  EXPECT_EQ(DecodeJpeg(garbage).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(EncodeJpeg(RgbImage{}, 90).status().code(), ErrorCode::kInvalidArgument);
}

TEST(SlideTest, RefusesAFileThatIsNoSlide) {
  const std::string path = ::testing::TempDir() + "caliper_not_a_slide.svs";
  std::ofstream(path) << "this is text, not a slide";
  auto slide = Slide::Open(path);
  EXPECT_FALSE(slide.ok());
  EXPECT_EQ(slide.status().code(), ErrorCode::kUnsupported);
  std::remove(path.c_str());
}

// Whether a library whose file name starts with `prefix` is mapped into this process.
bool Mapped(const std::string& prefix) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const std::size_t slash = line.rfind('/');
    if (slash != std::string::npos && line.compare(slash + 1, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

// OpenSlide (and the ~50 libraries it brings: GLib, cairo, libxml2, ...) is loaded when a slide
// is first opened, not when a process that could read one starts. Checked in a new process (a
// "threadsafe" death test executes this binary again), since other tests here open slides.
TEST(SlideTest, OpenSlideIsLoadedOnFirstUse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (Mapped("libopenslide.so") || Mapped("libglib-2.0.so")) std::exit(1);
        const std::string path = ::testing::TempDir() + "caliper_first_use.svs";
        std::ofstream(path) << "not a slide";
        const bool refused = Slide::Open(path).status().code() == ErrorCode::kUnsupported;
        std::remove(path.c_str());
        std::exit(!refused ? 2 : Mapped("libopenslide.so") ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "")
      << "1: loaded before any slide was opened, 2: the file was not refused, 3: not loaded after";
}

// ---- the public sample slide (../shared/data/wsi, found through CALIPER_SAMPLE_DATA) ----------

std::optional<std::string> SampleSlide() {
  auto path = SampleDataFile("wsi/CMU-1-Small-Region.svs");
  if (!path && SampleDataRequired()) {
    ADD_FAILURE() << "wsi/CMU-1-Small-Region.svs is required (CALIPER_REQUIRE_SAMPLE_DATA=1) but not found "
                  << "under CALIPER_SAMPLE_DATA";
  }
  return path;
}

TEST(SlideSampleTest, KeepsOnlyTheAllowListedProperties) {
  auto path = SampleSlide();
  if (!path) GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
  auto slide = Slide::Open(*path);
  ASSERT_TRUE(slide.ok()) << slide.status().ToString();
  const SlideProperties& p = (*slide)->properties();
  EXPECT_EQ(p.width, 2220);
  EXPECT_EQ(p.height, 2967);
  ASSERT_TRUE(p.mpp_x && p.mpp_y && p.objective_power);
  EXPECT_DOUBLE_EQ(*p.mpp_x, 0.499);
  EXPECT_DOUBLE_EQ(*p.mpp_y, 0.499);
  EXPECT_DOUBLE_EQ(*p.objective_power, 20);
  EXPECT_EQ(p.vendor, "aperio");
  // What the file itself carries (and ingest drops): the Aperio description with date and user.
  bool has_date = false;
  for (const auto& [name, value] : (*slide)->AllProperties()) has_date = has_date || name == "aperio.Date";
  EXPECT_TRUE(has_date);
}

TEST(SlideSampleTest, TilesMatchOpenSlidesOwnReadOfTheSameArea) {
  auto path = SampleSlide();
  if (!path) GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
  auto slide = Slide::Open(*path);
  ASSERT_TRUE(slide.ok()) << slide.status().ToString();
  const DeepZoom dz = DeepZoomFor(2220, 2967, 254, 1);
  // Full resolution: tile (3, 4) is exactly the level-0 area it covers.
  const auto rect = dz.TileRect(12, 3, 4);
  auto tile = (*slide)->RenderTile(dz, 12, 3, 4);
  ASSERT_TRUE(tile.ok()) << tile.status().ToString();
  auto jpeg = EncodeJpeg(*tile, 90);
  ASSERT_TRUE(jpeg.ok());
  auto decoded = DecodeJpeg(*jpeg);
  ASSERT_TRUE(decoded.ok());
  auto region = (*slide)->ReadRegion(rect.x, rect.y, static_cast<int>(rect.width), static_cast<int>(rect.height));
  ASSERT_TRUE(region.ok());
  // The source is itself JPEG (Aperio Q=30) of dense tissue: re-encoding at quality 90, 4:4:4
  // leaves a mean error of about 3.1 on this tile (1.7 over the level); one pixel off would
  // be over 10.
  const double diff = MeanAbsDiff(*decoded, *region);
  EXPECT_LT(diff, 4.0);
  auto shifted = (*slide)->ReadRegion(rect.x + 1, rect.y, static_cast<int>(rect.width), static_cast<int>(rect.height));
  ASSERT_TRUE(shifted.ok());
  EXPECT_GT(MeanAbsDiff(*decoded, *shifted), 2 * diff);
  // Not a blank area: the comparison means something.
  int lo = 255, hi = 0;
  for (auto v : region->pixels) {
    lo = std::min(lo, int{v});
    hi = std::max(hi, int{v});
  }
  EXPECT_GT(hi - lo, 60);
  // Half resolution: tile (1, 1) of level 11 is the level-0 area twice its size, averaged.
  const auto half = dz.TileRect(11, 1, 1);
  auto small = (*slide)->RenderTile(dz, 11, 1, 1);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width, half.width);
  EXPECT_EQ(small->height, half.height);
  auto wide = (*slide)->ReadRegion(half.x * 2, half.y * 2, static_cast<int>(half.width * 2),
                                   static_cast<int>(half.height * 2));
  ASSERT_TRUE(wide.ok());
  RgbImage averaged;
  averaged.width = static_cast<int>(half.width);
  averaged.height = static_cast<int>(half.height);
  for (int y = 0; y < averaged.height; ++y) {
    for (int x = 0; x < averaged.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int dy = 0; dy < 2; ++dy) {
          for (int dx = 0; dx < 2; ++dx) sum += wide->pixels[((2 * y + dy) * wide->width + 2 * x + dx) * 3 + c];
        }
        averaged.pixels.push_back(static_cast<std::uint8_t>((sum + 2) / 4));
      }
    }
  }
  EXPECT_LT(MeanAbsDiff(*small, averaged), 1.0);
  EXPECT_EQ((*slide)->RenderTile(dz, 12, 9, 0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ((*slide)->RenderTile(dz, 13, 0, 0).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace caliper::wsi
