// Evaluation against the synthetic notes' ground truth (docs/deid-text.md, "Evaluation").
// Span-level, type-aware: a true span counts as found when a detected span of the same type
// covers it with overlap ("partial" recall), and exactly when the bounds match. Prints the
// table; asserts the targets below.
#include <cstdio>
#include <map>

#include <gtest/gtest.h>

#include "caliper/deid/text_deid.h"
#include "caliper/synth/synthetic.h"
#include "synth/utf8.h"

namespace caliper::deid {
namespace {

struct Counts {
  int truth = 0, found = 0, exact = 0, detected = 0, correct = 0;
};

// Safe Harbor ages: only those over 89 are PHI, so smaller ages leave the ground truth.
bool IsSafeHarborPhi(const synth::SyntheticNote& note, const synth::PhiSpan& s) {
  if (s.type != synth::PhiType::kAge) return true;
  return std::stoi(synth::SubstrCodePoints(note.text, s.start, s.end)) > 89;
}

TEST(DeidEvaluation, SyntheticNotesRecallAndPrecisionPerType) {
  auto deid = TextDeidentifier::Create({});
  ASSERT_TRUE(deid.ok()) << deid.status().ToString();
  std::map<PhiType, Counts> counts;
  Counts all;
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    for (const synth::SyntheticNote& note : synth::MakeClinicalNotes(150, seed)) {
      auto found = (*deid)->Detect(note.text);
      ASSERT_TRUE(found.ok()) << found.status().ToString();
      std::vector<bool> used(found->size(), false);
      for (const synth::PhiSpan& t : note.phi) {
        if (!IsSafeHarborPhi(note, t)) continue;
        const auto type = static_cast<PhiType>(t.type);
        Counts& c = counts[type];
        ++c.truth;
        ++all.truth;
        for (std::size_t k = 0; k < found->size(); ++k) {
          const PhiSpan& d = (*found)[k];
          if (d.start < t.end && t.start < d.end) {
            used[k] = true;
            if (d.type == type) {
              ++c.found;
              ++all.found;
              if (d.start == t.start && d.end == t.end) ++c.exact;
            }
            break;
          }
        }
      }
      for (std::size_t k = 0; k < found->size(); ++k) {
        Counts& c = counts[(*found)[k].type];
        ++c.detected;
        ++all.detected;
        // Correct: overlaps a true span of the same type.
        for (const synth::PhiSpan& t : note.phi) {
          if ((*found)[k].start < t.end && t.start < (*found)[k].end &&
              static_cast<PhiType>(t.type) == (*found)[k].type) {
            ++c.correct;
            ++all.correct;
            break;
          }
        }
        if (!used[k]) {
          // Report what was flagged outside the truth, for tuning.
          const std::string text = synth::SubstrCodePoints(note.text, (*found)[k].start, (*found)[k].end);
          if (std::getenv("CALIPER_DEID_EVAL_VERBOSE")) {
            std::printf("FP %s: %s\n", std::string(PhiTypeName((*found)[k].type)).c_str(), text.c_str());
          }
        }
      }
    }
  }
  std::printf("%-9s %6s %8s %8s %9s\n", "type", "truth", "recall", "exact", "precision");
  for (const auto& [type, c] : counts) {
    std::printf("%-9s %6d %8.3f %8.3f %9.3f\n", std::string(PhiTypeName(type)).c_str(), c.truth,
                c.truth ? double(c.found) / c.truth : 1.0, c.truth ? double(c.exact) / c.truth : 1.0,
                c.detected ? double(c.correct) / c.detected : 1.0);
  }
  const double recall = double(all.found) / all.truth;
  const double precision = double(all.correct) / all.detected;
  std::printf("%-9s %6d %8.3f %8s %9.3f\n", "ALL", all.truth, recall, "", precision);
  EXPECT_GE(recall, 0.95);
  EXPECT_GE(precision, 0.90);
  for (PhiType t : {PhiType::kName, PhiType::kDate, PhiType::kPhone, PhiType::kEmail,
                    PhiType::kSsn, PhiType::kMrn, PhiType::kZip}) {
    const Counts& c = counts[t];
    EXPECT_GE(double(c.found) / c.truth, 0.95) << PhiTypeName(t);
  }
}

}  // namespace
}  // namespace caliper::deid
