// Whole-slide pathology through the HTTP API over loopback: readers' regions (W3C Web
// Annotations) stored, read back blinded, refused when malformed, and who may do what.

#include <gtest/gtest.h>
#include <httplib.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
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
}

}  // namespace
}  // namespace caliper::http
