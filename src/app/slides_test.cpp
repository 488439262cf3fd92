// Whole-slide images through the App with the public sample slide: nothing identifying of the
// file survives (properties, associated images, the file itself), tiles match OpenSlide's own
// read, viewer sessions guard the tiles, a bad file is reported and nothing of it stored.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "app/app_test_support.h"
#include "caliper/app/app.h"
#include "caliper/common/sample_data.h"
#include "caliper/wsi/slide.h"

namespace caliper::app {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class SlidesTest : public ProjectAppTest {
 protected:
  SlidesTest() : ProjectAppTest("caliper_slides_test_", "Slides") {}

  // Every blob file of the deployment.
  std::size_t BlobFiles() const {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "blobs")) n += e.is_regular_file();
    return n;
  }

  static std::optional<std::string> Sample() {
    auto path = SampleDataFile("wsi/CMU-1-Small-Region.svs");
    if (!path && SampleDataRequired()) {
      ADD_FAILURE() << "wsi/CMU-1-Small-Region.svs is required (CALIPER_REQUIRE_SAMPLE_DATA=1) but not found under "
                    << "CALIPER_SAMPLE_DATA";
    }
    return path;
  }

  RequestContext Reader(const std::string& name) {
    auto user = app_->CreateUser(LocalOperator(), NewUser{name, name, false, {}, "a long password 123"});
    EXPECT_TRUE(user.ok());
    RequestContext ctx;
    if (user.ok()) ctx.principal.user = user->user;
    return ctx;
  }
};

TEST_F(SlidesTest, AFileThatIsNoSlideIsReportedAndNothingIsStored) {
  const fs::path bad = dir_ / "not-a-slide.svs";
  std::ofstream(bad) << "II*\0 this is not a TIFF at all";
  const std::size_t blobs = BlobFiles();
  auto r = app_->IngestSlideFile(LocalOperator(), project_id_, bad.string(), "not-a-slide.svs");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, "error");
  EXPECT_FALSE(r->error.ok());
  EXPECT_TRUE(r->item_id.empty());
  EXPECT_EQ(ItemCount(), 0u);
  EXPECT_EQ(BlobFiles(), blobs);
  // The upload path: the temporary copy is gone afterwards.
  auto bytes = app_->IngestSlideBytes(LocalOperator(), project_id_, "not a slide", "x.svs");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->outcome, "error");
  EXPECT_TRUE(!fs::exists(dir_ / "tmp") || fs::is_empty(dir_ / "tmp"));
  EXPECT_EQ(app_->IngestSlideFile(LocalOperator(), "prj_missing", bad.string(), "x").status().code(),
            ErrorCode::kNotFound);
}

TEST_F(SlidesTest, TheSampleSlideKeepsNothingIdentifyingAndItsTilesMatchOpenSlide) {
  auto path = Sample();
  if (!path) GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
  auto original = wsi::Slide::Open(*path);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  const auto properties = (*original)->AllProperties();
  const auto associated = (*original)->AssociatedImageNames();

  std::ifstream in(*path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t blobs_before = BlobFiles();
  auto r = app_->IngestSlideBytes(LocalOperator(), project_id_, bytes, "CMU-1-Small-Region.svs");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->outcome, "stored") << r->error.ToString();
  const wsi::DeepZoom dz = wsi::DeepZoomFor(2220, 2967, 254, 1);
  EXPECT_EQ(r->tiles, dz.TileCount());
  EXPECT_EQ(r->slide.levels, 13);
  EXPECT_EQ(r->dropped_images, associated);
  EXPECT_EQ(r->dropped_properties, static_cast<int>(properties.size()) - 6);  // six kept (docs/pathology.md)

  // What is stored: the item's description and one blob per tile, nothing else (no associated
  // image, no copy of the file), and no temporary file left behind.
  EXPECT_EQ(BlobFiles(), blobs_before + static_cast<std::size_t>(dz.TileCount()) + 1);
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
  auto content = app_->ReadItemContent(LocalOperator(), r->item_id);
  ASSERT_TRUE(content.ok());
  const json stored = json::parse(*content);
  std::set<std::string> keys;
  for (const auto& [k, v] : stored.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"width", "height", "mpp_x", "mpp_y", "objective_power", "vendor", "levels",
                                         "tile_size", "overlap", "format"}));
  EXPECT_EQ(stored["width"], 2220);
  EXPECT_DOUBLE_EQ(stored["mpp_x"].get<double>(), 0.499);
  EXPECT_EQ(stored["objective_power"], 20);
  EXPECT_EQ(stored["vendor"], "aperio");
  // Every dropped property's text value (dates, times, user, file name, scanner id, image id,
  // the whole Aperio description) is absent from what is stored.
  int checked = 0;
  for (const auto& [name, value] : properties) {
    if (name.rfind("openslide.", 0) == 0 && name != "openslide.comment" && name != "openslide.quickhash-1") continue;
    if (value.size() < 4) continue;  // "20", "5": numbers that say nothing of anyone
    EXPECT_EQ(content->find(value), std::string::npos) << name << " survived";
    ++checked;
  }
  EXPECT_GE(checked, 8);  // aperio.Date, Time, User, Filename, ScanScope ID, ImageID, ImageDescription, ...

  // A tile, inside a viewer session, matches OpenSlide's own read of its area.
  RequestContext reader = Reader("reader1");
  auto view = app_->OpenSlideView(reader, r->item_id);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->slide.width, 2220);
  auto tile = app_->ReadSlideTile(reader, r->item_id, view->view, 12, 3, 4);
  ASSERT_TRUE(tile.ok()) << tile.status().ToString();
  auto decoded = wsi::DecodeJpeg({reinterpret_cast<const std::uint8_t*>(tile->data()), tile->size()});
  ASSERT_TRUE(decoded.ok());
  const auto rect = dz.TileRect(12, 3, 4);
  auto region = (*original)->ReadRegion(rect.x, rect.y, static_cast<int>(rect.width), static_cast<int>(rect.height));
  ASSERT_TRUE(region.ok());
  ASSERT_EQ(decoded->pixels.size(), region->pixels.size());
  double sum = 0;
  for (std::size_t i = 0; i < region->pixels.size(); ++i) sum += std::abs(int{decoded->pixels[i]} - int{region->pixels[i]});
  EXPECT_LT(sum / static_cast<double>(region->pixels.size()), 4.0);  // JPEG q90 4:4:4 of a JPEG source
  // Again, from the cache: the same bytes.
  auto again = app_->ReadSlideTile(reader, r->item_id, view->view, 12, 3, 4);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *tile);
  // The lowest level is one pixel.
  auto top = app_->ReadSlideTile(reader, r->item_id, view->view, 0, 0, 0);
  ASSERT_TRUE(top.ok());
  auto one = wsi::DecodeJpeg({reinterpret_cast<const std::uint8_t*>(top->data()), top->size()});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->width, 1);
  EXPECT_EQ(one->height, 1);

  // Refusals: past the last tile; another reader's session; a session on another item; none.
  EXPECT_EQ(app_->ReadSlideTile(reader, r->item_id, view->view, 12, 9, 0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(app_->ReadSlideTile(reader, r->item_id, view->view, 13, 0, 0).status().code(), ErrorCode::kNotFound);
  RequestContext other = Reader("reader2");
  EXPECT_EQ(app_->ReadSlideTile(other, r->item_id, view->view, 12, 3, 4).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(app_->CheckSlideView(other, r->item_id, view->view).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(app_->ReadSlideTile(reader, r->item_id, "dzv_unknown", 12, 3, 4).status().code(),
            ErrorCode::kNotFound);
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "slide.view_open"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "slide.ingest"), 1);
}

}  // namespace
}  // namespace caliper::app
