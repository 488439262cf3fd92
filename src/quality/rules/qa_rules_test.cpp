#include "caliper/quality/qa_rules.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace caliper::quality {
namespace {

std::vector<QaFinding> Only(const std::vector<QaFinding>& all, const std::string& rule) {
  std::vector<QaFinding> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [&](const QaFinding& f) { return f.rule == rule; });
  return out;
}

QaLabel Label(std::string annotation, std::string item, std::string reader, std::string task,
              std::string label_class, std::int64_t version = 2) {
  QaLabel l;
  l.annotation = std::move(annotation);
  l.item = std::move(item);
  l.reader = std::move(reader);
  l.task = std::move(task);
  l.label_class = std::move(label_class);
  l.guideline_version = version;
  return l;
}

class LabelRules : public ::testing::Test {
 protected:
  QaSettings settings_{.schema_classes = {"nodule", "normal", "effusion"},
                       .required_classes = {},
                       .current_guideline_version = 2,
                       .changed_since = {},
                       .min_class_share = 0.05,
                       .min_class_items = 1};
};

TEST_F(LabelRules, CleanProjectHasNoFindings) {
  std::vector<QaItem> items = {{"i1", "d1", false, true}, {"i2", "d2", true, true}};
  std::vector<QaLabel> labels = {Label("a1", "i1", "r1", "t1", "nodule"),
                                 Label("a2", "i1", "r2", "t2", "nodule"),
                                 Label("a3", "i2", "r1", "t3", "normal"),
                                 Label("a4", "i2", "r2", "t4", "effusion")};
  settings_.required_classes = {};
  const auto findings = RunLabelRules(items, labels, settings_);
  for (const auto& f : findings) ADD_FAILURE() << f.rule << ": " << f.message;
}

TEST_F(LabelRules, RepeatReadAndUnresolvedDisagreement) {
  std::vector<QaItem> items = {{"i1", "", false, true}};
  std::vector<QaLabel> labels = {Label("a1", "i1", "r1", "t1", "nodule"),
                                 Label("a2", "i1", "r1", "t9", "normal"),  // r1 again, after wash-out
                                 Label("a3", "i1", "r2", "t2", "effusion")};
  const auto findings = RunLabelRules(items, labels, settings_);
  const auto repeat = Only(findings, "consistency.repeat_read");
  ASSERT_EQ(repeat.size(), 1u);
  EXPECT_EQ(repeat[0].item, "i1");
  EXPECT_NE(repeat[0].message.find("r1"), std::string::npos);
  EXPECT_NE(repeat[0].message.find("{nodule}"), std::string::npos);
  EXPECT_NE(repeat[0].message.find("{normal}"), std::string::npos);
  EXPECT_EQ(Only(findings, "disagreement.unresolved").size(), 1u);
  // Adjudicated: the disagreement is resolved, the repeat-read inconsistency stays.
  items[0].adjudicated = true;
  const auto after = RunLabelRules(items, labels, settings_);
  EXPECT_TRUE(Only(after, "disagreement.unresolved").empty());
  EXPECT_EQ(Only(after, "consistency.repeat_read").size(), 1u);
}

TEST_F(LabelRules, IdenticalContentWithDifferentFinalLabels) {
  std::vector<QaItem> items = {{"i1", "same", true, true}, {"i2", "same", true, true},
                               {"i3", "other", true, true}};
  QaLabel f1 = Label("f1", "i1", "adj", "", "nodule");
  QaLabel f2 = Label("f2", "i2", "adj", "", "normal");
  QaLabel f3 = Label("f3", "i3", "adj", "", "normal");
  f1.final = f2.final = f3.final = true;
  const auto findings = Only(RunLabelRules(items, std::vector<QaLabel>{f1, f2, f3}, settings_),
                             "consistency.same_content");
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].item, "i1");
  EXPECT_NE(findings[0].message.find("i2"), std::string::npos);
  EXPECT_EQ(findings[1].item, "i2");
}

TEST_F(LabelRules, UnderRepresentedClasses) {
  std::vector<QaItem> items;
  std::vector<QaLabel> labels;
  for (int i = 0; i < 40; ++i) {
    const std::string item = "i" + std::to_string(i);
    items.push_back({item, "", false, false});
    labels.push_back(Label("a" + item, item, "r1", "t" + item, i == 0 ? "effusion" : "normal"));
  }
  const auto findings = Only(RunLabelRules(items, labels, settings_), "imbalance.under_represented");
  // effusion on 1 of 40 (2.5% < 5%), nodule on none; normal is fine.
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].label_class, "nodule");
  EXPECT_EQ(findings[1].label_class, "effusion");
  EXPECT_NE(findings[1].message.find("1 of 40"), std::string::npos);
  EXPECT_TRUE(findings[0].item.empty());
}

TEST_F(LabelRules, MissingRequiredOnlyOnFinishedItems) {
  settings_.required_classes = {"normal"};
  std::vector<QaItem> items = {{"done", "", false, true}, {"busy", "", false, false}};
  std::vector<QaLabel> labels = {Label("a1", "done", "r1", "t1", "nodule"),
                                 Label("a2", "busy", "r1", "t2", "nodule")};
  const auto findings = Only(RunLabelRules(items, labels, settings_), "missing.required");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].item, "done");
  EXPECT_EQ(findings[0].label_class, "normal");
  EXPECT_EQ(findings[0].severity, QaSeverity::kError);
}

TEST_F(LabelRules, DuplicatesAndOverlappingSpans) {
  std::vector<QaItem> items = {{"n1", "", false, false}};
  QaLabel a = Label("a", "n1", "r1", "t1", "nodule");
  a.span_start = 10;
  a.span_end = 20;
  QaLabel same = a;
  same.annotation = "b";
  QaLabel overlapping = a;
  overlapping.annotation = "c";
  overlapping.span_start = 15;
  overlapping.span_end = 30;
  QaLabel apart = a;
  apart.annotation = "d";
  apart.span_start = 20;  // touching, not overlapping
  apart.span_end = 25;
  QaLabel other_reader = a;
  other_reader.annotation = "e";
  other_reader.task = "t2";
  other_reader.reader = "r2";
  const auto findings =
      RunLabelRules(items, std::vector<QaLabel>{a, same, overlapping, apart, other_reader}, settings_);
  const auto dup = Only(findings, "duplicate.label");
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].annotation, "b");
  // a-c and b-c overlap; c-d overlap too ([15,30) and [20,25)).
  EXPECT_EQ(Only(findings, "duplicate.overlapping_span").size(), 3u);
}

TEST_F(LabelRules, OutdatedGuidelineOnlyForChangedClasses) {
  settings_.current_guideline_version = 3;
  // nodule changed from 2 to 3; normal changed from 1 to 2 only.
  settings_.changed_since = {{1, {"nodule", "normal"}}, {2, {"nodule"}}};
  std::vector<QaItem> items = {{"i1", "", false, false}};
  std::vector<QaLabel> labels = {Label("old_changed", "i1", "r1", "t1", "nodule", 2),
                                 Label("old_same", "i1", "r1", "t1", "normal", 2),
                                 Label("current", "i1", "r2", "t2", "nodule", 3)};
  const auto findings = Only(RunLabelRules(items, labels, settings_), "guideline.outdated");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].annotation, "old_changed");
  EXPECT_NE(findings[0].fix.find("re-annotation"), std::string::npos);
}

// A 20^3 grid with a solid 8^3 cube at [4, 12).
struct Cube {
  std::vector<std::uint8_t> voxels = std::vector<std::uint8_t>(20 * 20 * 20, 0);
  Cube() {
    for (int z = 4; z < 12; ++z)
      for (int y = 4; y < 12; ++y)
        for (int x = 4; x < 12; ++x) Set(x, y, z, 1);
  }
  void Set(int x, int y, int z, std::uint8_t v) { voxels[static_cast<std::size_t>((z * 20 + y) * 20 + x)] = v; }
  MaskView View() const { return {{{20, 20, 20}, {1, 1, 1}}, voxels}; }
};

TEST(MaskRules, CleanCubeHasNoFindings) {
  Cube cube;
  auto summary = SummariseComponents(cube.View());
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->components, 1);
  EXPECT_EQ(summary->sizes.front(), 512);
  EXPECT_EQ(summary->enclosed_cavities, 0);
  auto findings = RunMaskRules("i", "nodule", cube.View(), true, std::nullopt, {});
  ASSERT_TRUE(findings.ok());
  EXPECT_TRUE(findings->empty());
}

TEST(MaskRules, IslandsHolesAndEmptyFinding) {
  Cube cube;
  cube.Set(8, 8, 8, 0);      // an enclosed cavity of one voxel
  cube.Set(16, 16, 16, 1);   // a stray island
  cube.Set(17, 17, 17, 1);   // diagonal neighbour: the same 26-connected island
  cube.Set(1, 18, 2, 1);     // another island
  auto summary = SummariseComponents(cube.View());
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->components, 3);
  EXPECT_EQ(summary->sizes, (std::vector<std::int64_t>{511, 2, 1}));
  EXPECT_EQ(summary->enclosed_cavities, 1);
  EXPECT_EQ(summary->cavity_voxels, 1);
  auto findings = RunMaskRules("i", "nodule", cube.View(), true, std::nullopt, {});
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 2u);
  EXPECT_EQ((*findings)[0].rule, "mask.islands");
  EXPECT_NE((*findings)[0].message.find("2 disconnected"), std::string::npos);
  EXPECT_EQ((*findings)[1].rule, "mask.holes");

  // A cavity open to the outside along one axis is not a hole.
  Cube tunnel;
  for (int x = 4; x < 12; ++x) tunnel.Set(x, 8, 8, 0);
  auto open = SummariseComponents(tunnel.View());
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->enclosed_cavities, 0);

  std::vector<std::uint8_t> empty(20 * 20 * 20, 0);
  MaskView empty_view{{{20, 20, 20}, {1, 1, 1}}, empty};
  auto claimed = RunMaskRules("i", "nodule", empty_view, true, std::nullopt, {});
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].rule, "mask.empty_finding");
  auto absent = RunMaskRules("i", "nodule", empty_view, false, std::nullopt, {});
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->empty());
}

TEST(MaskRules, OutsideBodyOnCt) {
  Cube cube;
  // Body (0 HU) in z < 8, air (-1000 HU) above: half the cube is on air.
  std::vector<float> hu(20 * 20 * 20, 0.0f);
  for (std::size_t i = 8 * 400; i < hu.size(); ++i) hu[i] = -1000.0f;
  auto findings = RunMaskRules("i", "nodule", cube.View(), true, std::span<const float>(hu), {});
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].rule, "mask.outside_body");
  EXPECT_NE((*findings)[0].message.find("50.0%"), std::string::npos);
  // Lung (-850 HU) is not air.
  std::fill(hu.begin() + 8 * 400, hu.end(), -850.0f);
  findings = RunMaskRules("i", "nodule", cube.View(), true, std::span<const float>(hu), {});
  ASSERT_TRUE(findings.ok());
  EXPECT_TRUE(findings->empty());
  std::vector<float> short_buffer(10, 0.0f);
  EXPECT_FALSE(RunMaskRules("i", "nodule", cube.View(), true, std::span<const float>(short_buffer), {}).ok());
}

}  // namespace
}  // namespace caliper::quality
