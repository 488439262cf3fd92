// Whole-slide pathology through the HTTP API over loopback: readers' regions (W3C Web
// Annotations) stored, read back blinded, refused when malformed, and who may do what.

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/common/sample_data.h"
#include "caliper/http/server.h"
#include "http/test_server.h"

namespace caliper::http {
namespace {

using nlohmann::json;

constexpr const char* kPassword = "pathology-test-passphrase-1";

class PathologyApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServerOptions server_options;
    server_options.threads = 16;
    auto harness = std::make_unique<TestServer>();
    Status started = harness->Start("caliper_pathology_api_test", server_options);
    ASSERT_TRUE(started.ok()) << started.ToString();
    harness_ = harness.release();
  }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(harness_, nullptr); }

  static app::App& App() { return harness_->app(); }
  static json Body(const httplib::Result& res) { return json::parse(res->body, nullptr, false); }

  // A project with a published guideline (a pathology class and a notes class) and one slide
  // item of 1000 x 500 level-0 pixels.
  static std::pair<std::string, std::string> ProjectWithSlide(const std::string& name) {
    auto project = App().CreateProject(app::LocalOperator(), name, "");
    EXPECT_TRUE(project.ok());
    const std::string schema = R"({"classes": [
        {"id": "tumour", "name": "Tumour", "kind": "polygon", "definition": "invasive tumour",
         "data_types": ["pathology"]},
        {"id": "finding", "name": "Finding", "kind": "span", "definition": "text", "data_types": ["notes"]}]})";
    auto draft = App().CreateGuidelineDraft(app::LocalOperator(), project->id, schema);
    EXPECT_TRUE(draft.ok());
    EXPECT_TRUE(App().PublishGuideline(app::LocalOperator(), project->id, draft->id, draft->revision).ok());
    app::SlideInfo slide;
    slide.width = 1000;
    slide.height = 500;
    slide.levels = 11;
    std::istringstream content(app::SlideInfoJson(slide));
    app::NewItem item;
    item.data_type = core::DataType::kPathology;
    item.patient_key = "pt-1";
    item.content_type = app::kSlideContentType;
    auto created = App().CreateItem(app::LocalOperator(), project->id, item, content);
    EXPECT_TRUE(created.ok());
    return {project->id, created.ok() ? created->id : ""};
  }

  static json Polygon(const std::string& item_id, const std::string& cls, const std::string& points) {
    return {{"@context", "http://www.w3.org/ns/anno.jsonld"},
            {"type", "Annotation"},
            {"id", "#a-" + points.substr(0, 3)},
            {"body", json::array({{{"type", "TextualBody"}, {"purpose", "classifying"}, {"value", cls}},
                                  {{"type", "TextualBody"}, {"purpose", "caliper:confidence"}, {"value", "0.7"}},
                                  {{"type", "TextualBody"}, {"purpose", "caliper:borderline"}, {"value", "true"}}})},
            {"target",
             {{"source", item_id},
              {"selector", {{"type", "SvgSelector"}, {"value", "<svg><polygon points=\"" + points + "\" /></svg>"}}}}}};
  }

  static inline TestServer* harness_ = nullptr;
};

TEST_F(PathologyApiTest, RegionsRoundTripBlindedAndChecked) {
  const auto [project, item] = ProjectWithSlide("Regions API");
  const std::vector<core::DataType> scope = {core::DataType::kPathology};
  TestSession reader = harness_->SignedInUser("p-reader", kPassword, project, {core::Role::kAnnotator}, scope);
  TestSession second = harness_->SignedInUser("p-second", kPassword, project, {core::Role::kAnnotator}, scope);
  TestSession unassigned = harness_->SignedInUser("p-unassigned", kPassword, project, {core::Role::kAnnotator}, scope);
  TestSession adjudicator = harness_->SignedInUser("p-adjudicator", kPassword, project, {core::Role::kAdjudicator}, scope);
  TestSession outsider = harness_->SignedInUser("p-outsider", kPassword, project, {}, {});
  ASSERT_TRUE(App().AssignItem(app::LocalOperator(), item, reader.user_id).ok());
  ASSERT_TRUE(App().AssignItem(app::LocalOperator(), item, second.user_id).ok());
  const std::string path = "/api/v1/items/" + item + "/regions";

  auto empty = harness_->Send("GET", path, &reader);
  ASSERT_EQ(empty->status, 200) << empty->body;
  EXPECT_EQ(Body(empty), (json{{"version", 0}, {"annotations", json::array()}}));

  const json doc{{"annotations", json::array({Polygon(item, "tumour", "10,10 200,10 200,300")})}};
  auto put = harness_->Send("PUT", path, &reader, doc.dump());
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Body(put), (json{{"version", 1}}));
  auto again = harness_->Send("PUT", path, &reader, doc.dump());
  EXPECT_EQ(Body(again)["version"], 2);
  auto got = harness_->Send("GET", path, &reader);
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(Body(got)["version"], 2);
  EXPECT_EQ(Body(got)["annotations"], doc["annotations"]);
  // Blinding: the second reader sees none of the first's.
  EXPECT_EQ(Body(harness_->Send("GET", path, &second))["version"], 0);

  // Refusals name what is wrong, and store nothing.
  auto outside = harness_->Send("PUT", path, &second,
                                json{{"annotations", json::array({Polygon(item, "tumour", "10,10 2000,10 20,30")})}}.dump());
  EXPECT_EQ(outside->status, 400);
  EXPECT_NE(Body(outside)["error"]["message"].get<std::string>().find("outside the slide"), std::string::npos);
  auto notes_class = harness_->Send("PUT", path, &second,
                                    json{{"annotations", json::array({Polygon(item, "finding", "1,1 5,1 5,5")})}}.dump());
  EXPECT_EQ(notes_class->status, 400);
  EXPECT_EQ(harness_->Send("PUT", path, &second, R"({"annotations": 3})")->status, 400);
  EXPECT_EQ(harness_->Send("PUT", path, &second, R"({"regions": []})")->status, 400);
  EXPECT_EQ(Body(harness_->Send("GET", path, &second))["version"], 0);

  // Who may: an unassigned reader, an outsider and anyone anonymous may not; an adjudicator
  // reads only their own (none), and draws no regions.
  EXPECT_EQ(harness_->Send("PUT", path, &unassigned, doc.dump())->status, 403);
  EXPECT_EQ(harness_->Send("GET", path, &unassigned)->status, 403);
  EXPECT_EQ(harness_->Send("GET", path, &outsider)->status, 403);
  EXPECT_EQ(harness_->Send("GET", path, nullptr)->status, 401);
  EXPECT_EQ(harness_->Send("PUT", path, &adjudicator, doc.dump())->status, 403);
  EXPECT_EQ(Body(harness_->Send("GET", path, &adjudicator))["version"], 0);
  EXPECT_EQ(harness_->AuditCount("markup.put", item), 2);
  EXPECT_EQ(harness_->AuditCount("markup.read", item), 5);

  // Agreement: for those who may see every reading, never for a reader.
  ASSERT_EQ(harness_->Send("PUT", path, &second,
                           json{{"annotations", json::array({Polygon(item, "tumour", "10,10 200,10 200,300")})}}.dump())
                ->status,
            200);
  auto agreement = harness_->Send("GET", path + "/agreement", &adjudicator);
  ASSERT_EQ(agreement->status, 200) << agreement->body;
  const json report = Body(agreement);
  EXPECT_EQ(report["resolution"]["cell_px"], 1);
  ASSERT_EQ(report["classes"].size(), 1u);
  EXPECT_EQ(report["classes"][0]["class"], "tumour");
  EXPECT_DOUBLE_EQ(report["classes"][0]["pairs"][0]["dice"].get<double>(), 1.0);  // the same triangle
  EXPECT_EQ(harness_->Send("GET", path + "/agreement", &reader)->status, 403);
  EXPECT_EQ(harness_->AuditCount("regions.agreement", item), 1);
}

TEST_F(PathologyApiTest, SlidesInTilesOutOnlyInsideALiveViewerSession) {
  auto path = SampleDataFile("wsi/CMU-1-Small-Region.svs");
  if (!path) {
    if (SampleDataRequired()) FAIL() << "wsi/CMU-1-Small-Region.svs is missing from CALIPER_SAMPLE_DATA";
    GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
  }
  std::ifstream in(*path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto project = App().CreateProject(app::LocalOperator(), "Slides API", "");
  ASSERT_TRUE(project.ok());
  const std::string p = project->id;
  const std::vector<core::DataType> scope = {core::DataType::kPathology};
  TestSession manager = harness_->SignedInUser("s-manager", kPassword, p, {core::Role::kManager}, scope);
  TestSession reader = harness_->SignedInUser("s-reader", kPassword, p, {core::Role::kAnnotator}, scope);
  TestSession second = harness_->SignedInUser("s-second", kPassword, p, {core::Role::kAnnotator}, scope);
  TestSession unassigned = harness_->SignedInUser("s-unassigned", kPassword, p, {core::Role::kAnnotator}, scope);
  const std::string upload = "/api/v1/projects/" + p + "/slides?name=CMU-1-Small-Region.svs";

  EXPECT_EQ(harness_->Send("POST", upload, &reader, bytes, "application/octet-stream")->status, 403);
  EXPECT_EQ(harness_->Send("POST", upload, &manager, bytes, "text/plain")->status, 415);
  auto bad = harness_->Send("POST", upload, &manager, "not a slide", "application/octet-stream");
  ASSERT_EQ(bad->status, 422) << bad->body;
  EXPECT_EQ(Body(bad)["outcome"], "error");
  auto stored = harness_->Send("POST", upload, &manager, bytes, "application/octet-stream");
  ASSERT_EQ(stored->status, 201) << stored->body;
  const json result = Body(stored);
  EXPECT_EQ(result["outcome"], "stored");
  EXPECT_EQ(result["slide"]["width"], 2220);
  const std::string item = result["item_id"];
  EXPECT_TRUE(std::filesystem::is_empty(harness_->dir() / "tmp"));  // the upload's copy is gone
  ASSERT_TRUE(App().AssignItem(app::LocalOperator(), item, reader.user_id).ok());
  ASSERT_TRUE(App().AssignItem(app::LocalOperator(), item, second.user_id).ok());
  const std::string base = "/api/v1/items/" + item;

  auto slide = harness_->Send("GET", base + "/slide", &reader);
  ASSERT_EQ(slide->status, 200);
  EXPECT_EQ(Body(slide), (json{{"width", 2220}, {"height", 2967}, {"mpp_x", 0.499}, {"mpp_y", 0.499},
                               {"objective_power", 20.0}, {"vendor", "aperio"}, {"levels", 13},
                               {"tile_size", 254}, {"overlap", 1}, {"format", "jpeg"}}));
  EXPECT_EQ(harness_->Send("GET", base + "/slide", &unassigned)->status, 403);

  auto opened = harness_->Send("POST", base + "/dz/sessions", &reader);
  ASSERT_EQ(opened->status, 201) << opened->body;
  const json session = Body(opened);
  EXPECT_EQ(session["max_level"], 12);
  EXPECT_EQ(session["format"], "jpeg");
  const std::string view = session["view"];
  const std::string dz = base + "/dz/" + view;
  auto dzi = harness_->Send("GET", dz + "/slide.dzi", &reader);
  ASSERT_EQ(dzi->status, 200);
  EXPECT_NE(dzi->body.find("TileSize=\"254\""), std::string::npos);
  EXPECT_NE(dzi->body.find("<Size Width=\"2220\" Height=\"2967\"/>"), std::string::npos);
  auto tile = harness_->Send("GET", dz + "/slide_files/12/3_4.jpeg", &reader);
  ASSERT_EQ(tile->status, 200) << tile->body;
  EXPECT_EQ(tile->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(tile->get_header_value("Cache-Control"), "private, no-store");
  ASSERT_GT(tile->body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(tile->body[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(tile->body[1]), 0xD8);
  EXPECT_EQ(harness_->Send("GET", dz + "/slide_files/12/9_0.jpeg", &reader)->status, 404);
  EXPECT_EQ(harness_->Send("GET", dz + "/slide_files/13/0_0.jpeg", &reader)->status, 404);
  EXPECT_EQ(harness_->Send("GET", dz + "/slide_files/12/x_0.jpeg", &reader)->status, 404);
  // Another reader (assigned too) may not use this session (it does not exist for them);
  // anyone unassigned may not even ask.
  auto borrowed = harness_->Send("GET", dz + "/slide_files/12/3_4.jpeg", &second);
  EXPECT_EQ(borrowed->status, 404);
  EXPECT_NE(borrowed->body.find("viewer session"), std::string::npos);
  EXPECT_EQ(harness_->Send("GET", dz + "/slide.dzi", &second)->status, 404);
  EXPECT_EQ(harness_->Send("GET", dz + "/slide_files/12/3_4.jpeg", &unassigned)->status, 403);
  EXPECT_EQ(harness_->Send("GET", dz + "/slide_files/12/3_4.jpeg", nullptr)->status, 401);
  // The session ends: its tiles with it.
  harness_->clock().Advance(61 * kMicrosPerMinute);
  reader = harness_->LogIn("s-reader", kPassword, reader.user_id);  // the sign-in has timed out too
  auto ended = harness_->Send("GET", dz + "/slide_files/12/3_4.jpeg", &reader);
  EXPECT_EQ(ended->status, 404);
  EXPECT_NE(ended->body.find("has ended"), std::string::npos);
  EXPECT_EQ(harness_->Send("POST", base + "/dz/sessions", &reader)->status, 201);
  EXPECT_EQ(harness_->AuditCount("slide.view_open", item), 2);
}

}  // namespace
}  // namespace caliper::http
