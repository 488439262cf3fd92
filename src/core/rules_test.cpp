#include "caliper/core/rules.h"

#include <gtest/gtest.h>

namespace caliper::core {
namespace {

TEST(RulesTest, NamesRoundTrip) {
  for (Role r : {Role::kAdmin, Role::kManager, Role::kAnnotator, Role::kReviewer, Role::kAdjudicator,
                 Role::kAuditor, Role::kDataSteward}) {
    auto parsed = ParseRole(ToString(r));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_EQ(ToString(DataType::kWaveforms), "waveforms");
  EXPECT_EQ(*ParseAssertion("possible"), Assertion::kPossible);
  auto bad = ParseRole("superuser");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("data_steward"), std::string::npos) << "lists accepted values";
}

TEST(RulesTest, TaskStateMachineAllowsOnlyItsEdges) {
  EXPECT_EQ(*TaskTransition(TaskState::kOpen, TaskEvent::kClaim), TaskState::kClaimed);
  EXPECT_EQ(*TaskTransition(TaskState::kClaimed, TaskEvent::kLeaseExpire), TaskState::kOpen);
  EXPECT_EQ(*TaskTransition(TaskState::kClaimed, TaskEvent::kSubmit), TaskState::kSubmitted);
  EXPECT_EQ(*TaskTransition(TaskState::kInReview, TaskEvent::kEscalate), TaskState::kEscalated);
  EXPECT_EQ(*TaskTransition(TaskState::kEscalated, TaskEvent::kAdjudicate), TaskState::kAdjudicated);
  auto bad = TaskTransition(TaskState::kOpen, TaskEvent::kSubmit);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kConflict);
  EXPECT_FALSE(TaskTransition(TaskState::kAccepted, TaskEvent::kClaim).ok());
  EXPECT_FALSE(TaskTransition(TaskState::kAdjudicated, TaskEvent::kReopen).ok());
  // Re-annotation: every finished reading goes back to its reader; one in progress does not.
  for (TaskState s : {TaskState::kSubmitted, TaskState::kInReview, TaskState::kAccepted, TaskState::kEscalated,
                      TaskState::kAdjudicated}) {
    EXPECT_EQ(*TaskTransition(s, TaskEvent::kReannotate), TaskState::kClaimed) << ToString(s);
  }
  for (TaskState s : {TaskState::kOpen, TaskState::kClaimed, TaskState::kRejected}) {
    EXPECT_EQ(TaskTransition(s, TaskEvent::kReannotate).status().code(), ErrorCode::kConflict) << ToString(s);
  }
  EXPECT_EQ(ToString(TaskEvent::kReannotate), "reannotate");
}

TEST(RulesTest, ValidatesUsernamesAndProjectNames) {
  EXPECT_TRUE(ValidateUsername("dr.smith-2").ok());
  EXPECT_FALSE(ValidateUsername("Dr Smith").ok());
  EXPECT_FALSE(ValidateUsername("a").ok());
  EXPECT_FALSE(ValidateUsername("../root").ok());
  EXPECT_TRUE(ValidateProjectName("Lung nodules 2026").ok());
  EXPECT_FALSE(ValidateProjectName("").ok());
  EXPECT_FALSE(ValidateProjectName("bad\nname").ok());
}

TEST(RulesTest, AnnotationKeepsEvidenceLabelAndUncertaintyValid) {
  Annotation a;
  a.evidence_kind = "span";
  a.label_class = "pneumothorax";
  a.code_system = "SNOMED CT";
  a.code = "36118008";
  a.confidence = 0.8;
  EXPECT_TRUE(ValidateAnnotation(a).ok());
  a.confidence = 1.5;
  EXPECT_FALSE(ValidateAnnotation(a).ok());
  a.confidence.reset();
  a.evidence_kind = "vibes";
  EXPECT_FALSE(ValidateAnnotation(a).ok());
  a.evidence_kind = "roi";
  a.code_system.clear();
  EXPECT_FALSE(ValidateAnnotation(a).ok()) << "a code needs its system";
}

}  // namespace
}  // namespace caliper::core

namespace caliper::core {
namespace {

TEST(PrelabelArms, TheHiddenShareIsStableAndRoughlyTheShare) {
  int hidden = 0;
  for (int u = 0; u < 2000; ++u) {
    const std::string user = "usr_" + std::to_string(u);
    EXPECT_FALSE(PrelabelHiddenFor("prj_1", user, 0.0));
    EXPECT_TRUE(PrelabelHiddenFor("prj_1", user, 1.0));
    const bool h = PrelabelHiddenFor("prj_1", user, 0.3);
    EXPECT_EQ(h, PrelabelHiddenFor("prj_1", user, 0.3)) << "stable";
    if (h) {
      EXPECT_TRUE(PrelabelHiddenFor("prj_1", user, 0.5)) << "a larger share keeps the hidden readers hidden";
    }
    hidden += h ? 1 : 0;
  }
  EXPECT_NEAR(hidden / 2000.0, 0.3, 0.04);
}

TEST(PrelabelValidation, ModelFieldsAndScoreAreChecked) {
  Prelabel p;
  p.model_name = "toy";
  p.model_version = "1";
  p.evidence_kind = "document";
  p.label_class = "nodule";
  p.score = 0.4;
  EXPECT_TRUE(ValidatePrelabel(p).ok());
  p.score = 1.2;
  EXPECT_EQ(ValidatePrelabel(p).code(), ErrorCode::kInvalidArgument);
  p.score.reset();
  p.model_version = "";
  EXPECT_NE(ValidatePrelabel(p).message().find("model.version"), std::string::npos);
  p.model_version = "1";
  p.evidence_kind = "blob";
  EXPECT_EQ(ValidatePrelabel(p).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseTaskOrder("least_sure").value(), TaskOrder::kLeastSure);
  EXPECT_EQ(ParsePrelabelStatus("maybe").status().code(), ErrorCode::kInvalidArgument);
}

TEST(RulesTest, FeedbackKindsRoundTrip) {
  for (FeedbackKind k : {FeedbackKind::kUnclearDefinition, FeedbackKind::kMissingEdgeCase,
                         FeedbackKind::kCriteriaConflict, FeedbackKind::kNeedsExample, FeedbackKind::kOther}) {
    EXPECT_EQ(ParseFeedbackKind(ToString(k)).value(), k);
  }
  auto bad = ParseFeedbackKind("typo");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("missing_edge_case"), std::string::npos) << "names the accepted values";
}

TEST(TaskStateMachine, AReadingOutsideTheReviewSampleIsAcceptedOnlyFromSubmitted) {
  auto waived = TaskTransition(TaskState::kSubmitted, TaskEvent::kWaiveReview);
  ASSERT_TRUE(waived.ok());
  EXPECT_EQ(*waived, TaskState::kAccepted);
  EXPECT_EQ(ToString(TaskEvent::kWaiveReview), "waive_review");
  for (TaskState from : {TaskState::kOpen, TaskState::kClaimed, TaskState::kInReview, TaskState::kEscalated,
                         TaskState::kRejected}) {
    EXPECT_EQ(TaskTransition(from, TaskEvent::kWaiveReview).status().code(), ErrorCode::kConflict);
  }
}

TEST(StableDraw, IsStableSpreadAndTellsItsPartsApart) {
  EXPECT_EQ(StableDraw({"tsk_1", "review"}), StableDraw({"tsk_1", "review"}));
  EXPECT_NE(StableDraw({"tsk_1", "review"}), StableDraw({"tsk_2", "review"}));
  EXPECT_NE(StableDraw({"ab", "c"}), StableDraw({"a", "bc"}));
  double sum = 0;
  for (int i = 0; i < 4000; ++i) {
    const double d = StableDraw({"tsk_" + std::to_string(i), "review"});
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    sum += d;
  }
  EXPECT_NEAR(sum / 4000, 0.5, 0.02);
}

}  // namespace
}  // namespace caliper::core
