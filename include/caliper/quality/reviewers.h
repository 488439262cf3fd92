#pragma once

// Reviewer analytics: how each reader's labels compare with a reference label per item (the
// adjudicated label, the fused label, or a gold item's known answer), and which readers
// deviate from their peers by a stated statistical test.
//
// The test, per reader r with n_r labels on referenced items of which a_r agree with the
// reference: the 2 x 2 table [[a_r, n_r - a_r], [a_o, n_o - a_o]] against the pooled labels of
// all other readers, one-sided Fisher exact test for a lower agreement than the peers' (p =
// P(X <= a_r) under the hypergeometric law of the table's margins; Fisher 1935, Agresti 2002
// §3.5.1). The p-values of all readers are adjusted with Holm's step-down method (Holm 1979)
// and a reader is flagged when the adjusted p < alpha. One-sided because the action is for
// readers worse than their peers (retraining, a closer review of their queue); with a
// two-sided test one poor reader would make every good reader "deviate" upwards against a
// pool that includes the poor one.
//
// No I/O; thread-compatible.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/quality/ratings.h"

namespace caliper::quality {

// The reference label of one item.
struct ReferenceLabel {
  std::string item;
  std::string value;
};


struct ReaderScore {
  std::string reader;
  std::int64_t n = 0;       // this reader's labels on items that have a reference
  std::int64_t agree = 0;   // of which equal the reference
  double accuracy = 0;      // agree / n
  double peers_accuracy = 0;  // pooled over every other reader (NaN when they have no labels)
  double p_value = 1;       // one-sided Fisher exact (agreement below the peers')
  double p_adjusted = 1;    // Holm across readers
  bool flagged = false;     // p_adjusted < alpha
  // confusion[reference category][reader category], categories as ReaderAnalytics::categories.
  std::vector<std::vector<std::int64_t>> confusion;
};

struct ReaderAnalytics {
  std::vector<std::string> categories;  // sorted label values seen in ratings or references
  std::vector<ReaderScore> readers;     // in order of first appearance in the ratings
  std::int64_t unreferenced = 0;        // ratings on items without a reference (not scored)
  double alpha = 0.05;
  static constexpr std::string_view kTest =
      "one-sided Fisher exact test that a reader's agreement with the reference is below the "
      "pooled agreement of all other readers, Holm-adjusted across readers";
};

// Errors: kInvalidArgument when alpha is not in (0, 1), a reference item appears twice with
// different values, or a field is empty. Ratings of readers on items without a reference are
// counted in `unreferenced` and otherwise ignored. A reader with no referenced ratings is
// listed with n = 0 and never flagged.
Result<ReaderAnalytics> AnalyseReaders(std::span<const Rating> ratings,
                                       std::span<const ReferenceLabel> reference,
                                       double alpha = 0.05);

// Fisher exact p-values of the 2 x 2 table [[a, b], [c, d]] (counts >= 0): two-sided (tables
// no more probable than the observed one, relative tolerance 1e-7 as R's fisher.test) and
// lower-tailed (P(X <= a), the odds ratio below 1). Degenerate margins give 1.
double FisherExactTwoSided(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d);
double FisherExactLess(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d);

// Holm's step-down adjustment: adjusted[i] for p[i], monotone and capped at 1.
std::vector<double> HolmAdjust(std::span<const double> p);

}  // namespace caliper::quality
