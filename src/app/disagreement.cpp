#include "app/disagreement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/evidence.h"
#include "caliper/quality/dawid_skene.h"
#include "caliper/quality/mask_metrics.h"
#include "caliper/quality/spans.h"

namespace caliper::app {
namespace {

using nlohmann::json;

std::optional<double> GradeOf(const core::Annotation& a) {
  if (a.evidence_kind != "value") return std::nullopt;
  const json data = json::parse(a.evidence_json, nullptr, false);
  if (!data.is_object() || !data.contains("value") || !data["value"].is_number()) return std::nullopt;
  return data["value"].get<double>();
}

void KeepLowest(std::optional<double>& lowest, double v) {
  if (!lowest || v < *lowest) lowest = v;
}

std::string Figure(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

}  // namespace

std::vector<ClassDisagreement> Disagreement(const std::vector<ReadingLabels>& readings) {
  std::set<std::string> classes;
  for (const auto& r : readings) {
    for (const auto& a : r.labels) classes.insert(a.label_class);
  }
  std::vector<ClassDisagreement> out;
  for (const auto& cls : classes) {
    ClassDisagreement d;
    d.label_class = cls;
    d.readings = static_cast<int>(readings.size());
    std::vector<double> grades;
    std::vector<const core::Annotation*> masks;     // voxels evidence, one per reading that has one
    std::vector<const ClassMask*> stored;           // stored masks, one per reading that names one
    std::vector<std::vector<quality::TextSpan>> spans(readings.size());
    bool any_span = false;
    for (std::size_t i = 0; i < readings.size(); ++i) {
      bool names = false, graded = false, masked = false, named_mask = false;
      for (const auto& a : readings[i].labels) {
        if (a.label_class != cls) continue;
        names = names || a.assertion != core::Assertion::kAbsent;
        if (a.confidence) KeepLowest(d.min_confidence, *a.confidence);
        if (auto g = GradeOf(a); g && !graded) {
          grades.push_back(*g);
          graded = true;
        }
        if (a.evidence_kind == "voxels" && !masked) {
          masks.push_back(&a);
          masked = true;
        }
        if (a.evidence_kind == "mask" && !named_mask) {
          if (auto m = readings[i].masks.find(cls); m != readings[i].masks.end()) stored.push_back(&m->second);
          named_mask = true;
        }
        if (a.evidence_kind == "span") {
          if (auto s = ParseSpanEvidence(a.evidence_json); s.ok()) {
            spans[i].push_back({"item", s->start, s->end, cls});
            any_span = true;
          }
        }
      }
      if (names) ++d.naming;
    }
    if (grades.size() >= 2) {
      const auto [lo, hi] = std::minmax_element(grades.begin(), grades.end());
      d.grade_distance = *hi - *lo;
    }
    for (std::size_t i = 0; i < masks.size(); ++i) {
      for (std::size_t j = i + 1; j < masks.size(); ++j) {
        if (auto dice = EvidenceDice(masks[i]->evidence_json, masks[j]->evidence_json); dice.ok()) {
          KeepLowest(d.min_dice, *dice);
        }
      }
    }
    for (std::size_t i = 0; i < stored.size(); ++i) {
      for (std::size_t j = i + 1; j < stored.size(); ++j) {
        auto overlap = quality::MaskOverlap(quality::MaskView{stored[i]->grid, stored[i]->voxels},
                                            quality::MaskView{stored[j]->grid, stored[j]->voxels});
        if (overlap.ok()) KeepLowest(d.min_dice, overlap->dice);
      }
    }
    if (any_span) {
      for (std::size_t i = 0; i < spans.size(); ++i) {
        for (std::size_t j = i + 1; j < spans.size(); ++j) {
          if (auto f1 = quality::SpanF1(spans[i], spans[j]); f1.ok()) KeepLowest(d.min_span_f1, f1->exact_f1);
        }
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<TriggerHit> AdjudicationTriggers(const core::LabelSchema& schema,
                                             const std::vector<ClassDisagreement>& figures) {
  std::vector<TriggerHit> hits;
  for (const auto& d : figures) {
    const core::LabelClass* cls = schema.Find(d.label_class);
    if (cls == nullptr) continue;
    const core::AdjudicationThresholds& t = cls->adjudication;
    if (t.class_mismatch && d.readings >= 2 && d.naming > 0 && d.naming < d.readings) {
      hits.push_back({d.label_class, "class_mismatch",
                      std::to_string(d.naming) + " of " + std::to_string(d.readings) + " readings name the class"});
    }
    if (t.grade_distance && d.grade_distance && *d.grade_distance >= *t.grade_distance) {
      hits.push_back({d.label_class, "grade_distance",
                      "grades " + Figure(*d.grade_distance) + " apart (threshold " +
                          std::to_string(*t.grade_distance) + ")"});
    }
    if (t.dice_below && d.min_dice && *d.min_dice < *t.dice_below) {
      hits.push_back({d.label_class, "dice_below",
                      "Dice " + Figure(*d.min_dice) + " below " + Figure(*t.dice_below)});
    }
    if (t.span_mismatch && d.readings >= 2 && d.min_span_f1 && *d.min_span_f1 < 1) {
      hits.push_back({d.label_class, "span_mismatch", "exact span F1 " + Figure(*d.min_span_f1)});
    }
    if (t.low_confidence_below && d.min_confidence && *d.min_confidence < *t.low_confidence_below) {
      hits.push_back({d.label_class, "low_confidence",
                      "confidence " + Figure(*d.min_confidence) + " below " + Figure(*t.low_confidence_below)});
    }
  }
  return hits;
}

Result<std::map<std::string, double>> PresencePosteriors(const std::vector<quality::Rating>& presence) {
  std::map<std::string, double> out;
  if (presence.empty()) return out;
  CALIPER_ASSIGN_OR_RETURN(auto set, quality::RatingSet::FromRatings(presence));
  const auto& labels = set.category_labels();
  const auto present = std::find(labels.begin(), labels.end(), "present");
  if (present == labels.end() || labels.size() == 1) {  // every reading says the same
    for (std::size_t i = 0; i < set.n_items(); ++i) out[set.ItemName(i)] = present == labels.end() ? 0.0 : 1.0;
    return out;
  }
  quality::DawidSkeneOptions options;
  options.pseudo_count = 0.01;  // keeps a reader who was never wrong yet off certainty
  CALIPER_ASSIGN_OR_RETURN(auto fit, quality::DawidSkene(set, options));
  const auto column = static_cast<std::size_t>(present - labels.begin());
  for (std::size_t i = 0; i < set.n_items(); ++i) out[set.ItemName(i)] = fit.posteriors[i * fit.n_classes + column];
  return out;
}

Result<std::optional<double>> PresencePosterior(const std::vector<quality::Rating>& presence) {
  if (presence.empty()) return std::optional<double>();
  CALIPER_ASSIGN_OR_RETURN(auto all, PresencePosteriors(presence));
  return std::optional<double>(all.at(presence.front().item));
}

}  // namespace caliper::app
