#pragma once

// Delayed ground truth (docs/workflow.md, "Ground truth that arrives later"): whether an
// outcome event confirms or refutes a label of a class that requires confirmation, or its
// window has passed. Pure functions; internal to app.

#include <string>
#include <vector>

#include "caliper/common/clock.h"
#include "caliper/core/label_schema.h"
#include "caliper/core/types.h"

namespace caliper::app {

// What is judged: a reader's label or a model's pre-label, reduced to what outcomes speak of.
struct Claim {
  std::string item_id;
  std::string patient_key;  // the item's pseudonymous patient
  std::string label_class;
  bool present = true;      // assertion is not 'absent'
  std::string value;        // the label's grade ("value" evidence) or code; "" when none
  TimeMicros made_at = 0;   // the window runs from here
};

enum class TruthStatus { kProvisional, kConfirmed, kRefuted, kUnconfirmed };
std::string_view ToString(TruthStatus s);

struct TruthDecision {
  TruthStatus status = TruthStatus::kProvisional;
  std::string outcome_id;  // the deciding outcome; "" when none
};

// The claim's status under `rule` at `now`. An outcome matches when it names the claim's item
// (or the item's patient), class and an evidence type of the rule, and was observed no later
// than window_days after the claim was made. The earliest matching outcome decides: one that
// confirms the class (or the claim's value) confirms a present claim and refutes an absent
// one; one that refutes does the opposite; one about another value of the class refutes a
// present claim when it confirms, and says nothing when it refutes. Without a deciding
// outcome the claim is unconfirmed once the window has passed, else provisional.
TruthDecision DecideTruth(const Claim& claim, const core::ConfirmationRule& rule,
                          const std::vector<core::Outcome>& outcomes, TimeMicros now);

// The claim a label stands for (value: its grade when the evidence is a value, else its code).
Claim ClaimOf(const core::Annotation& a, const core::Item& item);

}  // namespace caliper::app
