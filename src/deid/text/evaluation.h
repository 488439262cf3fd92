#pragma once

// Span-level, type-aware evaluation of the detector against synthetic notes' ground truth
// (docs/deid-text.md, "Evaluation"), shared by the evaluation test and bench/deid_text.cpp.
// Header-only so that the deid library itself does not depend on the generator.
//
// Recall: a true span counts as found when the first detected span overlapping it has the same
// type; exactly when the bounds also match. Precision: a detected span is correct when it
// overlaps a true span of the same type. Ages of 89 and under are not Safe Harbor PHI and
// leave the truth.

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "caliper/deid/text_deid.h"
#include "caliper/synth/synthetic.h"
#include "synth/utf8.h"

namespace caliper::deid::text {

struct TypeCounts {
  int truth = 0, found = 0, exact = 0, detected = 0, correct = 0;
  double recall() const { return truth ? double(found) / truth : 1.0; }
  double exact_recall() const { return truth ? double(exact) / truth : 1.0; }
  double precision() const { return detected ? double(correct) / detected : 1.0; }
};

struct EvaluationReport {
  std::map<PhiType, TypeCounts> types;
  TypeCounts all;
  // "TYPE: text | context", the context being up to 30 code points on either side with the
  // span in brackets and line breaks shown as spaces.
  std::vector<std::string> false_positives;  // detections outside the truth
  std::vector<std::string> misses;           // true spans not found
};

inline std::string DescribeSpan(const std::string& text, std::size_t start, std::size_t end, PhiType type) {
  std::string context = synth::SubstrCodePoints(text, start > 30 ? start - 30 : 0, start) + "[" +
                        synth::SubstrCodePoints(text, start, end) + "]" +
                        synth::SubstrCodePoints(text, end, end + 30);
  for (char& c : context) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return std::string(PhiTypeName(type)) + ": " + synth::SubstrCodePoints(text, start, end) + " | " + context;
}

inline bool IsSafeHarborPhi(const synth::SyntheticNote& note, const synth::PhiSpan& s) {
  if (s.type != synth::PhiType::kAge) return true;
  return std::stoi(synth::SubstrCodePoints(note.text, s.start, s.end)) > 89;
}

inline Result<EvaluationReport> Evaluate(TextDeidentifier& deid, const std::vector<synth::SyntheticNote>& notes) {
  EvaluationReport r;
  for (const synth::SyntheticNote& note : notes) {
    CALIPER_ASSIGN_OR_RETURN(std::vector<PhiSpan> found, deid.Detect(note.text));
    std::vector<bool> used(found.size(), false);
    for (const synth::PhiSpan& t : note.phi) {
      if (!IsSafeHarborPhi(note, t)) continue;
      const auto type = static_cast<PhiType>(t.type);
      TypeCounts& c = r.types[type];
      ++c.truth;
      ++r.all.truth;
      bool hit = false;
      for (std::size_t k = 0; k < found.size(); ++k) {
        const PhiSpan& d = found[k];
        if (d.start < t.end && t.start < d.end) {
          used[k] = true;
          if (d.type == type) {
            hit = true;
            ++c.found;
            ++r.all.found;
            if (d.start == t.start && d.end == t.end) {
              ++c.exact;
              ++r.all.exact;
            }
          }
          break;
        }
      }
      if (!hit) {
        r.misses.push_back(DescribeSpan(note.text, t.start, t.end, type));
      }
    }
    for (std::size_t k = 0; k < found.size(); ++k) {
      TypeCounts& c = r.types[found[k].type];
      ++c.detected;
      ++r.all.detected;
      for (const synth::PhiSpan& t : note.phi) {
        if (found[k].start < t.end && t.start < found[k].end && static_cast<PhiType>(t.type) == found[k].type) {
          ++c.correct;
          ++r.all.correct;
          break;
        }
      }
      if (!used[k]) {
        r.false_positives.push_back(DescribeSpan(note.text, found[k].start, found[k].end, found[k].type));
      }
    }
  }
  return r;
}

inline void PrintReport(const EvaluationReport& r, const char* title, std::FILE* out = stdout) {
  std::fprintf(out, "%s\n%-9s %6s %8s %8s %9s\n", title, "type", "truth", "recall", "exact", "precision");
  for (const auto& [type, c] : r.types) {
    std::fprintf(out, "%-9s %6d %8.3f %8.3f %9.3f\n", std::string(PhiTypeName(type)).c_str(), c.truth, c.recall(),
                 c.exact_recall(), c.precision());
  }
  std::fprintf(out, "%-9s %6d %8.3f %8.3f %9.3f\n", "ALL", r.all.truth, r.all.recall(), r.all.exact_recall(),
               r.all.precision());
}

}  // namespace caliper::deid::text
