#include "app/truth.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace caliper::app {

std::string_view ToString(TruthStatus s) {
  switch (s) {
    case TruthStatus::kConfirmed:
      return "confirmed";
    case TruthStatus::kRefuted:
      return "refuted";
    case TruthStatus::kUnconfirmed:
      return "unconfirmed";
    case TruthStatus::kProvisional:
      break;
  }
  return "provisional";
}

TruthDecision DecideTruth(const Claim& claim, const core::ConfirmationRule& rule,
                          const std::vector<core::Outcome>& outcomes, TimeMicros now) {
  const TimeMicros window_end = claim.made_at + rule.window_days * 24 * kMicrosPerHour;
  std::vector<const core::Outcome*> matching;
  for (const auto& o : outcomes) {
    const bool same_subject =
        o.item_id.empty() ? (!o.patient_key.empty() && o.patient_key == claim.patient_key) : o.item_id == claim.item_id;
    if (!same_subject || o.label_class != claim.label_class || o.observed_at > window_end) continue;
    if (std::find(rule.evidence_sources.begin(), rule.evidence_sources.end(), o.evidence_type) ==
        rule.evidence_sources.end()) {
      continue;
    }
    matching.push_back(&o);
  }
  std::sort(matching.begin(), matching.end(), [](const core::Outcome* a, const core::Outcome* b) {
    return a->observed_at != b->observed_at ? a->observed_at < b->observed_at : a->id < b->id;
  });
  for (const core::Outcome* o : matching) {
    const bool about_claim = o->value.empty() || o->value == claim.value;
    bool holds;  // does the outcome say the claim is right?
    if (about_claim) {
      holds = o->confirms == claim.present;
    } else if (o->confirms) {
      holds = !claim.present;  // the class has another value: a present claim of this one is wrong
    } else {
      continue;  // another value refuted: says nothing about this one
    }
    return {holds ? TruthStatus::kConfirmed : TruthStatus::kRefuted, o->id};
  }
  return {now > window_end ? TruthStatus::kUnconfirmed : TruthStatus::kProvisional, ""};
}

Claim ClaimOf(const core::Annotation& a, const core::Item& item) {
  Claim c{a.item_id, item.patient_key, a.label_class, a.assertion != core::Assertion::kAbsent, a.code, a.created_at};
  if (a.evidence_kind == "value") {
    const auto data = nlohmann::json::parse(a.evidence_json, nullptr, false);
    if (data.is_object() && data.contains("value") && !data["value"].is_null()) {
      c.value = data["value"].is_string() ? data["value"].get<std::string>() : data["value"].dump();
    }
  }
  return c;
}

}  // namespace caliper::app
