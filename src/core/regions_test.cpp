#include "caliper/core/regions.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace caliper::core {
namespace {

using nlohmann::json;

json Annotation(const std::string& id, json selector, json extra_bodies = json::array()) {
  json body = json::array({{{"type", "TextualBody"}, {"purpose", "classifying"}, {"value", "tumour"}}});
  for (const auto& b : extra_bodies) body.push_back(b);
  return {{"@context", "http://www.w3.org/ns/anno.jsonld"},
          {"type", "Annotation"},
          {"id", id},
          {"body", body},
          {"target", {{"source", "itm_1"}, {"selector", selector}}}};
}

json Polygon(const std::string& points) {
  return {{"type", "SvgSelector"}, {"value", "<svg><polygon points=\"" + points + "\"></polygon></svg>"}};
}

json Fragment(const std::string& xywh) {
  return {{"type", "FragmentSelector"}, {"conformsTo", "http://www.w3.org/TR/media-frags/"}, {"value", xywh}};
}

Result<std::vector<Region>> Parse(const json& annotations) {
  return ParseRegions(json{{"annotations", annotations}}.dump(), "itm_1", 1000, 500);
}

std::string ErrorOf(const json& annotations) {
  auto r = Parse(annotations);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  return r.status().message();
}

TEST(RegionsTest, ParsesPolygonRectangleAndPointWithBodies) {
  auto regions = Parse(json::array(
      {Annotation("a1", Polygon("10,20 110,20 110,70"),
                  json::array({{{"type", "TextualBody"}, {"purpose", "caliper:confidence"}, {"value", "0.8"}},
                               {{"type", "TextualBody"}, {"purpose", "caliper:borderline"}, {"value", "true"}}})),
       Annotation("a2", Fragment("xywh=pixel:100,50,200,100")), Annotation("a3", Fragment("xywh=5,6,0,0"))}));
  ASSERT_TRUE(regions.ok()) << regions.status().ToString();
  ASSERT_EQ(regions->size(), 3u);
  const Region& p = (*regions)[0];
  EXPECT_EQ(p.shape, RegionShape::kPolygon);
  EXPECT_EQ(p.label_class, "tumour");
  ASSERT_TRUE(p.confidence.has_value());
  EXPECT_DOUBLE_EQ(*p.confidence, 0.8);
  EXPECT_TRUE(p.borderline);
  ASSERT_EQ(p.points.size(), 3u);
  EXPECT_DOUBLE_EQ(p.points[1].x, 110);
  EXPECT_DOUBLE_EQ(p.points[2].y, 70);
  EXPECT_DOUBLE_EQ(RegionArea(p), 100.0 * 50 / 2);
  const Region& r = (*regions)[1];
  EXPECT_EQ(r.shape, RegionShape::kRectangle);
  EXPECT_FALSE(r.confidence.has_value());
  EXPECT_FALSE(r.borderline);
  EXPECT_DOUBLE_EQ(RegionArea(r), 200.0 * 100);
  const RegionBox box = RegionBounds(r);
  EXPECT_DOUBLE_EQ(box.x, 100);
  EXPECT_DOUBLE_EQ(box.y, 50);
  EXPECT_DOUBLE_EQ(box.width, 200);
  EXPECT_DOUBLE_EQ(box.height, 100);
  EXPECT_EQ((*regions)[2].shape, RegionShape::kPoint);
  EXPECT_DOUBLE_EQ(RegionArea((*regions)[2]), 0);
}

TEST(RegionsTest, RefusesWithAClearMessage) {
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Polygon("10,20 110,20"))})).find("at least 3 vertices"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Polygon("10,20 1100,20 5,5"))})).find("outside the slide"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Fragment("xywh=pixel:1,2,3"))})).find("four numbers"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Fragment("xywh=percent:1,2,3,4"))})).find("level-0 pixels"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Fragment("xywh=1,2,0,4"))})).find("width and height"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Fragment("xywh=1,2,3,4")), Annotation("a1", Fragment("xywh=1,2,3,4"))}))
                .find("annotations[1] (id 'a1'): the id is used twice"),
            std::string::npos);
  auto conf = json::array({{{"type", "TextualBody"}, {"purpose", "caliper:confidence"}, {"value", "1.5"}}});
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Fragment("xywh=1,2,3,4"), conf)})).find("[0, 1]"),
            std::string::npos);
  auto comment = json::array({{{"type", "TextualBody"}, {"purpose", "commenting"}, {"value", "Mr Smith"}}});
  EXPECT_NE(ErrorOf(json::array({Annotation("a1", Fragment("xywh=1,2,3,4"), comment)})).find("purpose 'commenting'"),
            std::string::npos);
  json other = Annotation("a1", Fragment("xywh=1,2,3,4"));
  other["target"]["source"] = "itm_2";
  EXPECT_NE(ErrorOf(json::array({other})).find("target.source"), std::string::npos);
  json unclassified = Annotation("a1", Fragment("xywh=1,2,3,4"));
  unclassified["body"] = json::array();
  EXPECT_NE(ErrorOf(json::array({unclassified})).find("classifying"), std::string::npos);
  json circle = Annotation("a1", {{"type", "SvgSelector"}, {"value", "<svg><circle r=\"3\"/></svg>"}});
  EXPECT_NE(ErrorOf(json::array({circle})).find("no <polygon>"), std::string::npos);
  EXPECT_FALSE(ParseRegions("[1,2]", "itm_1", 10, 10).ok());
  EXPECT_FALSE(ParseRegions("{", "itm_1", 10, 10).ok());
}

TEST(RegionsTest, AnEmptyDocumentIsValid) {
  auto none = ParseRegions(R"({"annotations":[]})", "itm_1", 10, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace caliper::core
