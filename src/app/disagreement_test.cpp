#include "app/disagreement.h"

#include <gtest/gtest.h>

namespace caliper::app {
namespace {

core::Annotation Label(const std::string& cls, const std::string& kind = "document", const std::string& data = "{}") {
  core::Annotation a;
  a.label_class = cls;
  a.evidence_kind = kind;
  a.evidence_json = data;
  return a;
}

core::LabelSchema Schema(const std::string& adjudication) {
  auto schema = core::ParseLabelSchema(
      R"({"classes":[{"id":"finding","name":"Finding","kind":"classification","definition":"d","adjudication":)" +
      adjudication + R"(},{"id":"other","name":"Other","kind":"classification","definition":"d"}]})");
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return schema.ok() ? *schema : core::LabelSchema{};
}

std::vector<std::string> Reasons(const std::vector<TriggerHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.label_class + ":" + h.reason);
  return out;
}

using Strings = std::vector<std::string>;

TEST(DisagreementTest, AClassNamedByOnlySomeReadingsIsAClassMismatch) {
  std::vector<ReadingLabels> readings = {{"r1", {Label("finding")}}, {"r2", {Label("other")}}};
  const auto figures = Disagreement(readings);
  ASSERT_EQ(figures.size(), 2u);
  EXPECT_EQ(figures[0].label_class, "finding");
  EXPECT_EQ(figures[0].naming, 1);
  EXPECT_EQ(figures[0].readings, 2);
  // "other" names no adjudication object: it never triggers by itself.
  EXPECT_EQ(Reasons(AdjudicationTriggers(Schema("{}"), figures)), Strings({"finding:class_mismatch"}));
  EXPECT_TRUE(AdjudicationTriggers(Schema(R"({"class_mismatch": false})"), figures).empty());
}

TEST(DisagreementTest, AnAbsentFindingDoesNotNameTheClass) {
  core::Annotation absent = Label("finding");
  absent.assertion = core::Assertion::kAbsent;
  const auto figures = Disagreement({{"r1", {Label("finding")}}, {"r2", {absent}}});
  EXPECT_EQ(Reasons(AdjudicationTriggers(Schema("{}"), figures)), Strings({"finding:class_mismatch"}));
  const auto agreeing = Disagreement({{"r1", {absent}}, {"r2", {absent}}});
  EXPECT_TRUE(AdjudicationTriggers(Schema("{}"), agreeing).empty());
}

TEST(DisagreementTest, GradesAtTheDistanceTrigger) {
  auto grade = [](int g) { return Label("finding", "value", R"({"value": )" + std::to_string(g) + "}"); };
  const std::string thresholds = R"({"grade_distance": 2})";
  const auto apart = Disagreement({{"r1", {grade(1)}}, {"r2", {grade(2)}}, {"r3", {grade(3)}}});
  ASSERT_TRUE(apart[0].grade_distance.has_value());
  EXPECT_EQ(*apart[0].grade_distance, 2);
  EXPECT_EQ(Reasons(AdjudicationTriggers(Schema(thresholds), apart)), Strings({"finding:grade_distance"}));
  const auto near = Disagreement({{"r1", {grade(2)}}, {"r2", {grade(3)}}});
  EXPECT_TRUE(AdjudicationTriggers(Schema(thresholds), near).empty());
}

TEST(DisagreementTest, MasksOverlappingLessThanTheThresholdTrigger) {
  // Two 4x1x1 masks: {0,1} and {1,2}: Dice = 2*1 / (2+2) = 0.5.
  auto mask = [](int start) {
    return Label("finding", "voxels",
                 R"({"dims":[4,1,1],"spacing_mm":[1,1,1],"runs":[[)" + std::to_string(start) + ",2]]}");
  };
  const auto figures = Disagreement({{"r1", {mask(0)}}, {"r2", {mask(1)}}});
  ASSERT_TRUE(figures[0].min_dice.has_value());
  EXPECT_DOUBLE_EQ(*figures[0].min_dice, 0.5);
  EXPECT_EQ(Reasons(AdjudicationTriggers(Schema(R"({"dice_below": 0.6})"), figures)),
            Strings({"finding:dice_below"}));
  EXPECT_TRUE(AdjudicationTriggers(Schema(R"({"dice_below": 0.5})"), figures).empty());
  const auto same = Disagreement({{"r1", {mask(0)}}, {"r2", {mask(0)}}});
  EXPECT_DOUBLE_EQ(*same[0].min_dice, 1.0);
}

TEST(DisagreementTest, DifferentSpansAreASpanMismatch) {
  auto span = [](int start, int end) {
    return Label("finding", "span", R"({"start":)" + std::to_string(start) + R"(,"end":)" + std::to_string(end) + "}");
  };
  const std::string thresholds = R"({"span_mismatch": true})";
  const auto shifted = Disagreement({{"r1", {span(0, 5)}}, {"r2", {span(0, 6)}}});
  ASSERT_TRUE(shifted[0].min_span_f1.has_value());
  EXPECT_DOUBLE_EQ(*shifted[0].min_span_f1, 0.0);
  EXPECT_EQ(Reasons(AdjudicationTriggers(Schema(thresholds), shifted)), Strings({"finding:span_mismatch"}));
  const auto same = Disagreement({{"r1", {span(0, 5), span(9, 12)}}, {"r2", {span(9, 12), span(0, 5)}}});
  EXPECT_TRUE(AdjudicationTriggers(Schema(thresholds), same).empty());
  EXPECT_TRUE(AdjudicationTriggers(Schema("{}"), shifted).empty()) << "off unless asked for";
}

TEST(DisagreementTest, AReaderBelowTheConfidenceThresholdTriggersEvenAlone) {
  core::Annotation unsure = Label("finding");
  unsure.confidence = 0.3;
  core::Annotation sure = Label("finding");
  sure.confidence = 0.9;
  const std::string thresholds = R"({"low_confidence_below": 0.5})";
  EXPECT_EQ(Reasons(AdjudicationTriggers(Schema(thresholds), Disagreement({{"r1", {sure}}, {"r2", {unsure}}}))),
            Strings({"finding:low_confidence"}));
  EXPECT_EQ(Reasons(AdjudicationTriggers(Schema(thresholds), Disagreement({{"r1", {unsure}}}))),
            Strings({"finding:low_confidence"}));
  EXPECT_TRUE(AdjudicationTriggers(Schema(thresholds), Disagreement({{"r1", {sure}}, {"r2", {sure}}})).empty());
}

TEST(DisagreementTest, PresencePosteriorFollowsTheReliableReaders) {
  // r1 and r2 agree on ten items; r3 contradicts them everywhere. On the item of interest r1
  // and r2 say present, r3 absent: the fused suggestion is present.
  std::vector<quality::Rating> presence = {{"x", "r1", "present"}, {"x", "r2", "present"}, {"x", "r3", "absent"}};
  for (int i = 0; i < 10; ++i) {
    const std::string item = "i" + std::to_string(i), truth = i % 2 ? "present" : "absent";
    const std::string wrong = i % 2 ? "absent" : "present";
    presence.push_back({item, "r1", truth});
    presence.push_back({item, "r2", truth});
    presence.push_back({item, "r3", wrong});
  }
  auto posterior = PresencePosterior(presence);
  ASSERT_TRUE(posterior.ok()) << posterior.status().ToString();
  ASSERT_TRUE(posterior->has_value());
  EXPECT_GT(**posterior, 0.9);
  // The same item with r1 and r2 saying absent: the suggestion flips.
  presence[0].value = presence[1].value = "absent";
  presence[2].value = "present";
  posterior = PresencePosterior(presence);
  ASSERT_TRUE(posterior.ok());
  EXPECT_LT(**posterior, 0.1);
  auto none = PresencePosterior({});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace caliper::app
