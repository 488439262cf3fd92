#include "caliper/prelabel/context.h"

#include <gtest/gtest.h>

namespace caliper::prelabel {
namespace {

using core::Assertion;

std::unique_ptr<ContextLabeller> Make(ContextOptions options = {}) {
  auto l = ContextLabeller::Create({{"pneumonia", {"pneumonia"}},
                                    {"pulmonary_embolism", {"pulmonary embolism", "PE"}},
                                    {"chest_pain", {"chest pain"}},
                                    {"fever", {"fever", "fevers"}},
                                    {"diabetes", {"diabetes", "diabetes mellitus"}},
                                    {"mi", {"myocardial infarction", "MI"}},
                                    {"effusion", {"effusion", "pleural effusion"}},
                                    {"mass", {"mass"}}},
                                   options);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return std::move(l).value();
}

// The single pre-label of `text` (the test fails when there is not exactly one).
PreLabel One(const std::string& text) {
  auto labels = Make()->Label(text);
  EXPECT_TRUE(labels.ok());
  EXPECT_EQ(labels->size(), 1u) << text;
  return labels->empty() ? PreLabel{} : labels->front();
}

TEST(ContextConcepts, CaseInsensitiveMultiWordLongestMatchOnTokenBoundaries) {
  auto labels = Make()->Label("PULMONARY  EMBOLISM and\nDiabetes Mellitus; no PEG tube.");
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 2u);  // "PE" is not found inside "PEG"
  EXPECT_EQ((*labels)[0].label_class, "pulmonary_embolism");
  EXPECT_EQ((*labels)[0].start, 0u);
  EXPECT_EQ((*labels)[0].end, 19u);
  EXPECT_EQ((*labels)[1].label_class, "diabetes");
  EXPECT_EQ((*labels)[1].start, 24u);
  EXPECT_EQ((*labels)[1].end, 41u);  // the longer term wins over "diabetes"
  EXPECT_EQ((*labels)[1].source, "context@1");
}

TEST(ContextConcepts, OffsetsAreCodePoints) {
  auto labels = Make()->Label("Patiënt José: fever");
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 1u);
  EXPECT_EQ((*labels)[0].start, 14u);
  EXPECT_EQ((*labels)[0].end, 19u);
}

TEST(ContextConcepts, InvalidInputIsAnError) {
  EXPECT_EQ(Make()->Label("fever \xC3\x28").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(ContextLabeller::Create({{"x", {"..."}}}).ok());
  EXPECT_FALSE(ContextLabeller::Create({{"", {"fever"}}}).ok());
  auto empty = Make()->Label("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ContextRules, PlainFindingIsPresentCurrentPatient) {
  PreLabel l = One("Right lower lobe pneumonia.");
  EXPECT_EQ(l.assertion, Assertion::kPresent);
  EXPECT_EQ(l.temporality, Temporality::kCurrent);
  EXPECT_EQ(l.experiencer, Experiencer::kPatient);
}

TEST(ContextRules, ForwardNegation) {
  EXPECT_EQ(One("The patient denies chest pain.").assertion, Assertion::kAbsent);
  EXPECT_EQ(One("No evidence of pneumonia.").assertion, Assertion::kAbsent);
}

TEST(ContextRules, BackwardNegation) {
  EXPECT_EQ(One("Pulmonary embolism was ruled out.").assertion, Assertion::kAbsent);
  EXPECT_EQ(One("Pleural effusion is not seen.").assertion, Assertion::kAbsent);
}

TEST(ContextRules, BidirectionalTrigger) {
  EXPECT_EQ(One("Suspected pneumonia.").assertion, Assertion::kPossible);
  EXPECT_EQ(One("Pneumonia, suspected.").assertion, Assertion::kPossible);
}

TEST(ContextRules, ScopeEndsAtTerminationTerm) {
  auto labels = Make()->Label("No fever but has chest pain.");
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[0].assertion, Assertion::kAbsent);
  EXPECT_EQ((*labels)[1].assertion, Assertion::kPresent);
}

TEST(ContextRules, ScopeEndsAtSentenceEnd) {
  auto labels = Make()->Label("Denies fever. Chest pain since this morning.");
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[0].assertion, Assertion::kAbsent);
  EXPECT_EQ((*labels)[1].assertion, Assertion::kPresent);
  // A backward trigger does not reach into the previous sentence.
  auto back = Make()->Label("Fever today. Pneumonia was ruled out.");
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].assertion, Assertion::kPresent);
  EXPECT_EQ((*back)[1].assertion, Assertion::kAbsent);
  // A blank line ends a sentence too; a decimal point does not.
  EXPECT_EQ(Make()->Label("No cough\n\nfever")->back().assertion, Assertion::kPresent);
  EXPECT_EQ(Make()->Label("No 3.5 cm mass")->back().assertion, Assertion::kAbsent);
}

TEST(ContextRules, ScopeEndsAfterTheWindow) {
  ContextOptions narrow;
  narrow.max_scope_tokens = 3;
  const std::string text = "No cough, headache, nausea, vomiting or fever.";
  EXPECT_EQ(Make()->Label(text)->front().assertion, Assertion::kAbsent);
  EXPECT_EQ(Make(narrow)->Label(text)->front().assertion, Assertion::kPresent);
}

TEST(ContextRules, PseudoTriggersDoNotNegate) {
  EXPECT_EQ(One("No increase in the pleural effusion.").assertion, Assertion::kPresent);
  EXPECT_EQ(One("No interval change in the mass.").assertion, Assertion::kPresent);
  EXPECT_EQ(One("Gram negative pneumonia.").assertion, Assertion::kPresent);
  EXPECT_EQ(One("Not only fever.").assertion, Assertion::kPresent);
}

TEST(ContextRules, Uncertainty) {
  EXPECT_EQ(One("Possible right lower lobe pneumonia.").assertion, Assertion::kPossible);
  EXPECT_EQ(One("Pulmonary embolism cannot be excluded.").assertion, Assertion::kPossible);
  // "not ruled out" is uncertainty, not negation: the longest trigger wins.
  EXPECT_EQ(One("PE not ruled out.").assertion, Assertion::kPossible);
}

TEST(ContextRules, Historical) {
  PreLabel l = One("History of myocardial infarction.");
  EXPECT_EQ(l.temporality, Temporality::kHistorical);
  EXPECT_EQ(l.assertion, Assertion::kPresent);
  EXPECT_EQ(One("Pneumonia two years ago.").temporality, Temporality::kHistorical);
  // "now" ends the historical scope.
  auto labels = Make()->Label("Status post MI, now with chest pain.");
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[0].temporality, Temporality::kHistorical);
  EXPECT_EQ((*labels)[1].temporality, Temporality::kCurrent);
}

TEST(ContextRules, Hypothetical) {
  EXPECT_EQ(One("Return if fever develops.").assertion, Assertion::kHypothetical);
  EXPECT_EQ(One("Should she develop chest pain, call 911.").assertion, Assertion::kHypothetical);
}

TEST(ContextRules, FamilyExperiencer) {
  PreLabel l = One("Family history of diabetes.");
  EXPECT_EQ(l.experiencer, Experiencer::kFamily);
  // "family history of" is longer than "history of": family, not the patient's past.
  EXPECT_EQ(l.temporality, Temporality::kCurrent);
  EXPECT_EQ(One("Diabetes in her mother.").experiencer, Experiencer::kFamily);
  EXPECT_EQ(One("His father had an MI at 50.").experiencer, Experiencer::kFamily);
}

TEST(ContextRules, OverlappingTriggersCombine) {
  // Family and negation both apply.
  PreLabel l = One("Mother denies chest pain.");
  EXPECT_EQ(l.experiencer, Experiencer::kFamily);
  EXPECT_EQ(l.assertion, Assertion::kAbsent);
  // Historical and negation both apply.
  PreLabel h = One("No history of diabetes.");
  EXPECT_EQ(h.assertion, Assertion::kAbsent);
  // Two assertion triggers: the nearest decides.
  EXPECT_EQ(One("No change; possible pneumonia.").assertion, Assertion::kPossible);
  EXPECT_EQ(One("Possibly no fever.").assertion, Assertion::kAbsent);
}

}  // namespace
}  // namespace caliper::prelabel
