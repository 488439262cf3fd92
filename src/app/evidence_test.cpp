// Evidence shapes and the distances between labels (src/app/evidence.h).

#include "app/evidence.h"

#include <gtest/gtest.h>

namespace caliper::app {
namespace {

std::string Mask(const std::string& runs) {
  return R"({"dims":[4,4,2],"spacing_mm":[1,1,2],"runs":)" + runs + "}";
}

TEST(Evidence, MasksParseFromRunsAndRefuseBadRuns) {
  auto m = ParseMaskEvidence(Mask("[[0,4],[16,2]]"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->voxels.size(), 32u);
  int on = 0;
  for (auto v : m->voxels) on += v;
  EXPECT_EQ(on, 6);
  EXPECT_EQ(m->voxels[16], 1);
  EXPECT_EQ(m->voxels[18], 0);
  EXPECT_EQ(ParseMaskEvidence(Mask("[[30,4]]")).status().code(), ErrorCode::kInvalidArgument) << "past the end";
  EXPECT_EQ(ParseMaskEvidence(Mask("[[0,4],[2,2]]")).status().code(), ErrorCode::kInvalidArgument) << "overlap";
  EXPECT_EQ(ParseMaskEvidence(R"({"dims":[4,4]})").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseMaskEvidence("[1]").status().code(), ErrorCode::kInvalidArgument);
}

TEST(Evidence, DiceOfTwoMasks) {
  // 4 voxels against 4 voxels sharing 2: Dice = 2 * 2 / 8.
  auto dice = EvidenceDice(Mask("[[0,4]]"), Mask("[[2,4]]"));
  ASSERT_TRUE(dice.ok()) << dice.status().ToString();
  EXPECT_DOUBLE_EQ(*dice, 0.5);
  EXPECT_DOUBLE_EQ(*EvidenceDice(Mask("[[0,4]]"), Mask("[[0,4]]")), 1.0);
  auto other_grid = EvidenceDice(Mask("[[0,4]]"), R"({"dims":[2,2,2],"runs":[[0,1]]})");
  EXPECT_EQ(other_grid.status().code(), ErrorCode::kInvalidArgument);
}

TEST(Evidence, SpansOverlapAsIntersectionOverUnion) {
  auto a = ParseSpanEvidence(R"({"start":10,"end":20})");
  auto b = ParseSpanEvidence(R"({"start":15,"end":25})");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(SpanOverlap(*a, *b), 5.0 / 15.0);
  EXPECT_DOUBLE_EQ(SpanOverlap(*a, SpanEvidence{30, 40}), 0.0);
  EXPECT_EQ(ParseSpanEvidence(R"({"start":5,"end":5})").status().code(), ErrorCode::kInvalidArgument);
}

TEST(Evidence, CorrectionSizeIsOneForAClassChangeElseTheShapeDistance) {
  core::Prelabel p;
  p.label_class = "nodule";
  p.evidence_kind = "voxels";
  p.evidence_json = Mask("[[0,4]]");
  core::Annotation a;
  a.label_class = "nodule";
  a.evidence_kind = "voxels";
  a.evidence_json = Mask("[[2,4]]");
  EXPECT_DOUBLE_EQ(CorrectionSize(p, a), 0.5);
  a.label_class = "cyst";
  EXPECT_DOUBLE_EQ(CorrectionSize(p, a), 1.0);
  p.label_class = a.label_class = "fever";
  p.evidence_kind = a.evidence_kind = "span";
  p.evidence_json = R"({"start":0,"end":10})";
  a.evidence_json = R"({"start":0,"end":5})";
  EXPECT_DOUBLE_EQ(CorrectionSize(p, a), 0.5);
  p.evidence_kind = a.evidence_kind = "document";
  p.evidence_json = a.evidence_json = "{}";
  EXPECT_DOUBLE_EQ(CorrectionSize(p, a), 0.0);
  // A segmentation corrected with the reader's stored mask: against the class's voxels there.
  p.label_class = a.label_class = "nodule";
  p.evidence_kind = "voxels";
  p.evidence_json = Mask("[[0,4]]");
  a.evidence_kind = "mask";
  a.evidence_json = R"({"version":1})";
  EXPECT_DOUBLE_EQ(CorrectionSize(p, a), 1.0) << "the stored mask not given: replaced";
  auto stored = ParseMaskEvidence(Mask("[[2,4]]"));
  ASSERT_TRUE(stored.ok());
  EXPECT_DOUBLE_EQ(CorrectionSize(p, a, quality::MaskView{stored->grid, stored->voxels}), 0.5);
  a.label_class = "cyst";
  EXPECT_DOUBLE_EQ(CorrectionSize(p, a, quality::MaskView{stored->grid, stored->voxels}), 1.0);
}

}  // namespace
}  // namespace caliper::app
