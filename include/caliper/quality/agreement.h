#pragma once

// Chance-corrected agreement on categorical ratings (docs/quality.md gives every formula and
// the published values the tests check).
//
// Items with fewer than two ratings carry no agreement; each metric says what it does with
// them. A rater who rated the same item twice makes every metric here fail with
// kInvalidArgument (use Dawid–Skene for repeated ratings). Statistics that are undefined for
// the data (e.g. kappa when every rating falls in one category, so chance agreement is 1)
// fail with kInvalidArgument and say why. All functions are pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "caliper/common/status.h"
#include "caliper/quality/ratings.h"

namespace caliper::quality {

enum class AgreementMetric { kPercent, kCohen, kFleiss, kKrippendorff, kGwet };

// Krippendorff's levels of measurement (Krippendorff 2011): they choose the difference function.
enum class MeasurementLevel { kNominal, kOrdinal, kInterval, kRatio };

// Agreement weights between categories k and l for the kappa family and Gwet's AC2, by
// category VALUE (not by rank): linear 1 - |x_k - x_l| / (x_max - x_min), quadratic
// 1 - (x_k - x_l)^2 / (x_max - x_min)^2, over the categories observed in the set. For
// categories 1..q this is Cohen's (1968) and Gwet's (2014) usual choice. kNone is identity.
enum class AgreementWeights { kNone, kLinear, kQuadratic };

struct AgreementSpec {
  AgreementMetric metric = AgreementMetric::kKrippendorff;
  MeasurementLevel level = MeasurementLevel::kNominal;  // Krippendorff only
  AgreementWeights weights = AgreementWeights::kNone;   // every metric but Krippendorff
};

struct AgreementResult {
  double value = 0;
  // Kappa family and percent: observed and chance agreement (p_a, p_e).
  // Krippendorff: observed and expected DISagreement (D_o, D_e).
  double observed = 0;
  double expected = 0;
  std::size_t n_items = 0;   // items that carried agreement: >= 2 ratings (Cohen: both raters)
  std::size_t n_raters = 0;  // raters with at least one rating
};

// Mean over items with >= 2 ratings of the share of agreeing ordered rater pairs (weighted:
// sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)), r*_ik = sum_l w_kl r_il, Gwet 2014).
Result<AgreementResult> PercentAgreement(const RatingSet& set, AgreementWeights weights);

// Cohen's kappa (1960; weighted: Cohen 1968) between exactly two raters, over the items both
// rated. Errors: kInvalidArgument unless the set has exactly two raters.
Result<AgreementResult> CohenKappa(const RatingSet& set, AgreementWeights weights);

// Fleiss' kappa (1971). With every item rated by the same number of raters this is Fleiss'
// formula exactly; with missing ratings it is Gwet's (2014, ch. 2) generalisation: p_a over
// items with >= 2 ratings, category shares pi_k = mean over items with >= 1 rating of
// r_ik / r_i, p_e = sum_kl w_kl pi_k pi_l.
Result<AgreementResult> FleissKappa(const RatingSet& set, AgreementWeights weights);

// Krippendorff's alpha via the coincidence matrix (Krippendorff 2011, "Computing
// Krippendorff's Alpha-Reliability"); any number of raters, missing ratings, units with one
// value are not pairable and are dropped. Ordinal/interval/ratio need numeric values.
Result<AgreementResult> KrippendorffAlpha(const RatingSet& set, MeasurementLevel level);

// Gwet's AC1 (unweighted; Gwet 2008) and AC2 (weighted; Gwet 2014) for any number of raters
// with missing ratings: p_a as in FleissKappa, p_e = T_w / (q (q - 1)) sum_k pi_k (1 - pi_k),
// T_w = sum_kl w_kl, q = number of categories observed.
Result<AgreementResult> GwetAc(const RatingSet& set, AgreementWeights weights);

// Dispatches on spec.metric. Errors: as the metric's; kInvalidArgument when weights are given
// to Krippendorff or a non-nominal level to another metric, or when weights/levels other than
// nominal meet non-numeric categories.
Result<AgreementResult> ComputeAgreement(const RatingSet& set, const AgreementSpec& spec);

// A dense items x raters matrix of category codes, row-major (codes[item * n_raters + rater]),
// kMissing for a missing rating; any other value is a category index. Borrowed: the caller keeps
// `codes` alive during the call. The fast path for large designs (e.g. 10^6 items x 5 raters):
// no strings, no RatingSet, one pass on up to two threads; the values equal FleissKappa and
// KrippendorffAlpha (nominal) on the same ratings as a RatingSet.
struct CategoryCodes {
  static constexpr std::uint8_t kMissing = 255;
  std::size_t n_items = 0;
  std::size_t n_raters = 0;
  std::span<const std::uint8_t> codes;
};

// Fleiss' kappa (unweighted; Gwet's generalisation with missing ratings) and Krippendorff's
// alpha (nominal) from category codes. Errors: kInvalidArgument when the sizes do not match,
// there are no raters, or the statistic is undefined (as the RatingSet overloads).
Result<AgreementResult> FleissKappa(const CategoryCodes& codes);
Result<AgreementResult> KrippendorffAlphaNominal(const CategoryCodes& codes);

struct BootstrapOptions {
  int replicates = 1000;          // B
  std::uint64_t seed = 20240611;  // replicate b uses std::mt19937_64(seed_seq{seed, b})
  double confidence = 0.95;
};

struct ConfidenceInterval {
  double lo = 0;
  double hi = 0;
  int valid_replicates = 0;  // replicates where the statistic was defined
};

// Percentile bootstrap interval: items are resampled with replacement (all items of the set,
// n draws), the statistic recomputed on each of B replicates, replicates where it is undefined
// dropped, and the (1-c)/2 and (1+c)/2 quantiles taken with linear interpolation between order
// statistics (numpy's default). The same seed gives the same interval. Replicates run on up to
// two threads. Errors: as ComputeAgreement on the full set; kInvalidArgument when
// replicates < 1 or fewer than half the replicates are defined.
Result<ConfidenceInterval> BootstrapAgreement(const RatingSet& set, const AgreementSpec& spec,
                                              const BootstrapOptions& options);

// Names on the command line and in JSON: "percent", "cohen", "fleiss", "krippendorff",
// "gwet"; "nominal", "ordinal", "interval", "ratio"; "none", "linear", "quadratic".
Result<AgreementMetric> ParseAgreementMetric(std::string_view name);
Result<MeasurementLevel> ParseMeasurementLevel(std::string_view name);
Result<AgreementWeights> ParseAgreementWeights(std::string_view name);
std::string_view ToString(AgreementMetric metric);

}  // namespace caliper::quality
