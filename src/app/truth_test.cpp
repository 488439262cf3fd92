#include "app/truth.h"

#include <gtest/gtest.h>

namespace caliper::app {
namespace {

constexpr TimeMicros kDay = 24 * kMicrosPerHour;
constexpr TimeMicros kMade = 1'800'000'000'000'000;  // when the label was made

const core::ConfirmationRule kBiopsy90{{"biopsy", "pathology_report"}, 90};

Claim Malignant(bool present = true, const std::string& value = "") {
  return Claim{"itm_1", "pt-1", "malignancy", present, value, kMade};
}

core::Outcome Outcome(const std::string& id, bool confirms, TimeMicros at, const std::string& evidence = "biopsy") {
  core::Outcome o;
  o.id = id;
  o.item_id = "itm_1";
  o.evidence_type = evidence;
  o.label_class = "malignancy";
  o.confirms = confirms;
  o.observed_at = at;
  return o;
}

TEST(TruthTest, ALabelIsProvisionalUntilItsWindowPassesThenUnconfirmed) {
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {}, kMade + kDay).status, TruthStatus::kProvisional);
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {}, kMade + 90 * kDay).status, TruthStatus::kProvisional);
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {}, kMade + 90 * kDay + 1).status, TruthStatus::kUnconfirmed);
}

TEST(TruthTest, AnOutcomeInsideTheWindowConfirmsOrRefutes) {
  const auto confirmed = DecideTruth(Malignant(), kBiopsy90, {Outcome("out_1", true, kMade + 30 * kDay)},
                                     kMade + 200 * kDay);
  EXPECT_EQ(confirmed.status, TruthStatus::kConfirmed);
  EXPECT_EQ(confirmed.outcome_id, "out_1");
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {Outcome("out_1", false, kMade + kDay)}, kMade + kDay).status,
            TruthStatus::kRefuted);
  // An absent finding is confirmed by a refuting outcome and refuted by a confirming one.
  EXPECT_EQ(DecideTruth(Malignant(false), kBiopsy90, {Outcome("out_1", false, kMade)}, kMade).status,
            TruthStatus::kConfirmed);
  EXPECT_EQ(DecideTruth(Malignant(false), kBiopsy90, {Outcome("out_1", true, kMade)}, kMade).status,
            TruthStatus::kRefuted);
  // Evidence from before the label counts (a biopsy done before the read).
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {Outcome("out_1", true, kMade - kDay)}, kMade).status,
            TruthStatus::kConfirmed);
}

TEST(TruthTest, OutcomesOutsideTheRuleOrTheWindowDecideNothing) {
  const TimeMicros later = kMade + 400 * kDay;
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {Outcome("out_1", true, kMade + 91 * kDay)}, later).status,
            TruthStatus::kUnconfirmed)
      << "too late";
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {Outcome("out_1", true, kMade, "follow_up_imaging")}, later).status,
            TruthStatus::kUnconfirmed)
      << "not an accepted evidence source";
  core::Outcome other_item = Outcome("out_1", true, kMade);
  other_item.item_id = "itm_2";
  core::Outcome other_class = Outcome("out_2", true, kMade);
  other_class.label_class = "cyst";
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {other_item, other_class}, later).status, TruthStatus::kUnconfirmed);
}

TEST(TruthTest, APatientOutcomeSpeaksForEveryItemOfThePatientAndTheEarliestDecides) {
  core::Outcome by_patient = Outcome("out_2", false, kMade + 10 * kDay);
  by_patient.item_id.clear();
  by_patient.patient_key = "pt-1";
  core::Outcome later = Outcome("out_1", true, kMade + 20 * kDay);
  const auto d = DecideTruth(Malignant(), kBiopsy90, {later, by_patient}, kMade + 30 * kDay);
  EXPECT_EQ(d.status, TruthStatus::kRefuted);
  EXPECT_EQ(d.outcome_id, "out_2");
  by_patient.patient_key = "pt-2";
  EXPECT_EQ(DecideTruth(Malignant(), kBiopsy90, {by_patient}, kMade).status, TruthStatus::kProvisional);
}

TEST(TruthTest, AValueOutcomeJudgesLabelsOfThatValue) {
  core::Outcome grade3 = Outcome("out_1", true, kMade);
  grade3.value = "3";
  EXPECT_EQ(DecideTruth(Malignant(true, "3"), kBiopsy90, {grade3}, kMade).status, TruthStatus::kConfirmed);
  EXPECT_EQ(DecideTruth(Malignant(true, "2"), kBiopsy90, {grade3}, kMade).status, TruthStatus::kRefuted)
      << "grade 3 confirmed: grade 2 is wrong";
  grade3.confirms = false;
  EXPECT_EQ(DecideTruth(Malignant(true, "3"), kBiopsy90, {grade3}, kMade).status, TruthStatus::kRefuted);
  EXPECT_EQ(DecideTruth(Malignant(true, "2"), kBiopsy90, {grade3}, kMade).status, TruthStatus::kProvisional)
      << "grade 3 refuted says nothing about grade 2";
}

TEST(TruthTest, ALabelsValueIsItsGradeOrItsCode) {
  core::Item item;
  item.patient_key = "pt-9";
  core::Annotation a;
  a.item_id = "itm_1";
  a.label_class = "grade";
  a.evidence_kind = "value";
  a.evidence_json = R"({"value": 3})";
  a.code = "ignored";
  a.created_at = kMade;
  EXPECT_EQ(ClaimOf(a, item).value, "3");
  EXPECT_EQ(ClaimOf(a, item).patient_key, "pt-9");
  a.evidence_kind = "document";
  EXPECT_EQ(ClaimOf(a, item).value, "ignored");
  a.assertion = core::Assertion::kAbsent;
  EXPECT_FALSE(ClaimOf(a, item).present);
}

}  // namespace
}  // namespace caliper::app
