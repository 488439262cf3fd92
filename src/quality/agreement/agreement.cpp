// Agreement coefficients (docs/quality.md). Every metric is computed in two steps: Prepare()
// reduces the ratings to per-item summaries once (category counts, per-item agreement,
// Krippendorff's per-unit coincidences), and Evaluate() combines the summaries, optionally with
// an item multiplicity per item, which is how the bootstrap resamples items without copying
// ratings. Both steps are linear in the number of ratings.

#include "caliper/quality/agreement.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <thread>
#include <vector>

namespace caliper::quality {
namespace {

constexpr std::uint32_t kNone32 = std::numeric_limits<std::uint32_t>::max();
// The coincidence matrix is dense K x K; beyond this many distinct values, bin the data.
constexpr std::size_t kMaxCoincidenceCategories = 2048;

double Nan() { return std::numeric_limits<double>::quiet_NaN(); }

// Distinct categories of each item with their counts (r_ik), in CSR layout.
struct ItemCounts {
  std::vector<std::size_t> offsets{0};
  std::vector<std::uint32_t> category;
  std::vector<std::uint32_t> count;
  std::vector<std::uint32_t> total;  // r_i, the item's number of ratings
  std::size_t raters_present = 0;
};

Result<ItemCounts> CountByItem(const RatingSet& set) {
  ItemCounts out;
  const std::size_t n = set.n_items();
  out.offsets.reserve(n + 1);
  out.total.reserve(n);
  out.category.reserve(set.n_ratings());
  out.count.reserve(set.n_ratings());
  std::vector<std::uint32_t> last_item_of_rater(set.n_raters(), kNone32);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t begin = out.category.size();
    auto ratings = set.ItemRatings(i);
    for (const auto& r : ratings) {
      if (last_item_of_rater[r.rater] == i) {
        return Error(ErrorCode::kInvalidArgument,
                     "rater '" + set.RaterName(r.rater) + "' rated item '" + set.ItemName(i) +
                         "' more than once; agreement needs one rating per rater and item");
      }
      if (last_item_of_rater[r.rater] == kNone32) ++out.raters_present;
      last_item_of_rater[r.rater] = static_cast<std::uint32_t>(i);
      std::size_t k = begin;
      while (k < out.category.size() && out.category[k] != r.category) ++k;
      if (k == out.category.size()) {
        out.category.push_back(r.category);
        out.count.push_back(1);
      } else {
        ++out.count[k];
      }
    }
    out.total.push_back(static_cast<std::uint32_t>(ratings.size()));
    out.offsets.push_back(out.category.size());
  }
  return out;
}

// w_kl by category value (agreement.h).
std::vector<double> WeightMatrix(const RatingSet& set, AgreementWeights weights) {
  const std::size_t q = set.n_categories();
  std::vector<double> w(q * q, 0.0);
  for (std::size_t k = 0; k < q; ++k) w[k * q + k] = 1.0;
  if (weights == AgreementWeights::kNone || q < 2) return w;
  const auto& x = set.category_values();
  const double range = x.back() - x.front();
  for (std::size_t k = 0; k < q; ++k) {
    for (std::size_t l = 0; l < q; ++l) {
      double d = std::abs(x[k] - x[l]) / range;
      w[k * q + l] = weights == AgreementWeights::kLinear ? 1.0 - d : 1.0 - d * d;
    }
  }
  return w;
}

struct Evaluation {
  double value = Nan();
  double observed = Nan();
  double expected = Nan();
  std::size_t n_items = 0;
  const char* undefined_because = "";
};

// Everything Evaluate() needs, computed once from the ratings.
struct Prepared {
  AgreementSpec spec;
  std::size_t q = 0;  // categories
  std::size_t n_raters = 0;
  std::vector<double> w;  // q x q agreement weights (kappa family)
  ItemCounts counts;
  std::vector<double> item_agreement;  // kappa family: a_i, NaN when r_i < 2
  std::vector<std::uint32_t> pair;     // Cohen: c1 * q + c2 per item, kNone32 if not both
  std::vector<double> values;          // Krippendorff: category values (numeric levels)
};

Result<Prepared> Prepare(const RatingSet& set, const AgreementSpec& spec) {
  const bool kripp = spec.metric == AgreementMetric::kKrippendorff;
  if (kripp && spec.weights != AgreementWeights::kNone) {
    return Error(ErrorCode::kInvalidArgument,
                 "Krippendorff's alpha takes a level of measurement, not weights");
  }
  if (!kripp && spec.level != MeasurementLevel::kNominal) {
    return Error(ErrorCode::kInvalidArgument,
                 "a level of measurement applies to Krippendorff's alpha only; use weights");
  }
  const bool needs_numbers =
      kripp ? spec.level != MeasurementLevel::kNominal : spec.weights != AgreementWeights::kNone;
  if (needs_numbers && !set.numeric()) {
    return Error(ErrorCode::kInvalidArgument,
                 "this level or weighting needs numeric ratings, but '" + set.first_non_numeric() +
                     "' is not a number");
  }
  if (kripp && spec.level == MeasurementLevel::kRatio && set.category_values().front() < 0) {
    return Error(ErrorCode::kInvalidArgument, "ratio level needs non-negative values");
  }
  if (kripp && set.n_categories() > kMaxCoincidenceCategories) {
    return Error(ErrorCode::kInvalidArgument,
                 std::to_string(set.n_categories()) +
                     " distinct values is too many for the coincidence matrix (at most " +
                     std::to_string(kMaxCoincidenceCategories) + "); bin the values");
  }
  Prepared p;
  p.spec = spec;
  p.q = set.n_categories();
  CALIPER_ASSIGN_OR_RETURN(p.counts, CountByItem(set));
  p.n_raters = p.counts.raters_present;
  const std::size_t n = set.n_items();

  if (spec.metric == AgreementMetric::kCohen) {
    if (p.n_raters != 2 || set.n_raters() != 2) {
      return Error(ErrorCode::kInvalidArgument, "Cohen's kappa needs exactly two raters, found " +
                                                    std::to_string(p.n_raters) +
                                                    "; use fleiss, gwet or krippendorff");
    }
    p.w = WeightMatrix(set, spec.weights);
    p.pair.assign(n, kNone32);
    for (std::size_t i = 0; i < n; ++i) {
      auto ratings = set.ItemRatings(i);
      if (ratings.size() != 2) continue;
      const auto& a = ratings[0].rater == 0 ? ratings[0] : ratings[1];
      const auto& b = ratings[0].rater == 0 ? ratings[1] : ratings[0];
      p.pair[i] = static_cast<std::uint32_t>(a.category * p.q + b.category);
    }
    return p;
  }
  if (kripp) {
    p.values = set.category_values();
    return p;
  }
  // Kappa family: a_i = sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)), r*_ik = sum_l w_kl r_il.
  p.w = WeightMatrix(set, spec.weights);
  p.item_agreement.assign(n, Nan());
  const auto& c = p.counts;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = c.total[i];
    if (r < 2) continue;
    double sum = 0;
    for (std::size_t a = c.offsets[i]; a < c.offsets[i + 1]; ++a) {
      double r_star = 0;
      for (std::size_t b = c.offsets[i]; b < c.offsets[i + 1]; ++b) {
        r_star += p.w[c.category[a] * p.q + c.category[b]] * c.count[b];
      }
      sum += c.count[a] * (r_star - 1.0);
    }
    p.item_agreement[i] = sum / (r * (r - 1.0));
  }
  return p;
}

// Multiplicity of item i: 1 without a resample.
inline double Mult(std::span<const std::uint32_t> mult, std::size_t i) {
  return mult.empty() ? 1.0 : static_cast<double>(mult[i]);
}

Evaluation EvaluateKappaFamily(const Prepared& p, std::span<const std::uint32_t> mult) {
  Evaluation e;
  const auto& c = p.counts;
  const std::size_t n = c.total.size();
  double pa_sum = 0, n2 = 0, n1 = 0;
  std::vector<double> pi(p.q, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double m = Mult(mult, i);
    if (m == 0 || c.total[i] == 0) continue;
    n1 += m;
    for (std::size_t a = c.offsets[i]; a < c.offsets[i + 1]; ++a) {
      pi[c.category[a]] += m * c.count[a] / static_cast<double>(c.total[i]);
    }
    if (c.total[i] >= 2) {
      pa_sum += m * p.item_agreement[i];
      n2 += m;
    }
  }
  e.n_items = static_cast<std::size_t>(n2);
  if (n2 == 0) {
    e.undefined_because = "no item has two or more ratings";
    return e;
  }
  for (auto& x : pi) x /= n1;
  e.observed = pa_sum / n2;
  switch (p.spec.metric) {
    case AgreementMetric::kPercent:
      e.expected = 0;
      e.value = e.observed;
      return e;
    case AgreementMetric::kFleiss: {
      double pe = 0;
      for (std::size_t k = 0; k < p.q; ++k) {
        for (std::size_t l = 0; l < p.q; ++l) pe += p.w[k * p.q + l] * pi[k] * pi[l];
      }
      e.expected = pe;
      break;
    }
    case AgreementMetric::kGwet: {
      if (p.q < 2) {
        e.undefined_because = "every rating is in one category";
        return e;
      }
      double tw = 0, spread = 0;
      for (double x : p.w) tw += x;
      for (double x : pi) spread += x * (1.0 - x);
      e.expected = tw / (p.q * (p.q - 1.0)) * spread;
      break;
    }
    default:
      break;
  }
  if (e.expected >= 1.0 - 1e-15) {
    e.undefined_because = "chance agreement is 1 (every rating is in one category)";
    return e;
  }
  e.value = (e.observed - e.expected) / (1.0 - e.expected);
  return e;
}

Evaluation EvaluateCohen(const Prepared& p, std::span<const std::uint32_t> mult) {
  Evaluation e;
  const std::size_t q = p.q;
  std::vector<double> table(q * q, 0.0);
  double total = 0;
  for (std::size_t i = 0; i < p.pair.size(); ++i) {
    if (p.pair[i] == kNone32) continue;
    const double m = Mult(mult, i);
    table[p.pair[i]] += m;
    total += m;
  }
  e.n_items = static_cast<std::size_t>(total);
  if (total == 0) {
    e.undefined_because = "no item was rated by both raters";
    return e;
  }
  std::vector<double> row(q, 0.0), col(q, 0.0);
  double po = 0;
  for (std::size_t k = 0; k < q; ++k) {
    for (std::size_t l = 0; l < q; ++l) {
      const double x = table[k * q + l] / total;
      row[k] += x;
      col[l] += x;
      po += p.w[k * q + l] * x;
    }
  }
  double pe = 0;
  for (std::size_t k = 0; k < q; ++k) {
    for (std::size_t l = 0; l < q; ++l) pe += p.w[k * q + l] * row[k] * col[l];
  }
  e.observed = po;
  e.expected = pe;
  if (pe >= 1.0 - 1e-15) {
    e.undefined_because = "chance agreement is 1 (both raters used one category)";
    return e;
  }
  e.value = (po - pe) / (1.0 - pe);
  return e;
}

Evaluation EvaluateKrippendorff(const Prepared& p, std::span<const std::uint32_t> mult) {
  Evaluation e;
  const std::size_t q = p.q;
  const auto& c = p.counts;
  // Coincidence matrix: o_ck = sum_u n_uc (n_uk - [c == k]) / (m_u - 1) over pairable units.
  std::vector<double> o(q * q, 0.0);
  double units = 0;
  for (std::size_t i = 0; i < c.total.size(); ++i) {
    const double m = Mult(mult, i);
    if (m == 0 || c.total[i] < 2) continue;
    units += m;
    const double scale = m / (c.total[i] - 1.0);
    for (std::size_t a = c.offsets[i]; a < c.offsets[i + 1]; ++a) {
      for (std::size_t b = c.offsets[i]; b < c.offsets[i + 1]; ++b) {
        const double pairs = static_cast<double>(c.count[a]) * (c.count[b] - (a == b ? 1 : 0));
        o[c.category[a] * q + c.category[b]] += pairs * scale;
      }
    }
  }
  e.n_items = static_cast<std::size_t>(units);
  std::vector<double> nc(q, 0.0);
  double n = 0;
  for (std::size_t k = 0; k < q; ++k) {
    for (std::size_t l = 0; l < q; ++l) nc[k] += o[k * q + l];
    n += nc[k];
  }
  if (n <= 1) {
    e.undefined_because = "fewer than two pairable values";
    return e;
  }
  // Squared difference functions (Krippendorff 2011, section on metrics).
  std::vector<double> cumulative(q + 1, 0.0);
  for (std::size_t k = 0; k < q; ++k) cumulative[k + 1] = cumulative[k] + nc[k];
  auto delta2 = [&](std::size_t k, std::size_t l) -> double {
    if (k == l) return 0.0;
    switch (p.spec.level) {
      case MeasurementLevel::kNominal:
        return 1.0;
      case MeasurementLevel::kOrdinal: {
        const std::size_t lo = std::min(k, l), hi = std::max(k, l);
        const double d = cumulative[hi + 1] - cumulative[lo] - (nc[lo] + nc[hi]) / 2.0;
        return d * d;
      }
      case MeasurementLevel::kInterval: {
        const double d = p.values[k] - p.values[l];
        return d * d;
      }
      case MeasurementLevel::kRatio: {
        const double sum = p.values[k] + p.values[l];
        if (sum == 0) return 0.0;
        const double d = (p.values[k] - p.values[l]) / sum;
        return d * d;
      }
    }
    return 0.0;
  };
  double observed = 0, expected = 0;
  for (std::size_t k = 0; k < q; ++k) {
    for (std::size_t l = 0; l < q; ++l) {
      if (k == l) continue;
      const double d2 = delta2(k, l);
      observed += o[k * q + l] * d2;
      expected += nc[k] * nc[l] * d2;
    }
  }
  e.observed = observed / n;
  e.expected = expected / (n * (n - 1.0));
  if (expected <= 0) {
    e.undefined_because = "no expected disagreement (every value is the same)";
    return e;
  }
  e.value = 1.0 - (n - 1.0) * observed / expected;
  return e;
}

Evaluation Evaluate(const Prepared& p, std::span<const std::uint32_t> mult) {
  switch (p.spec.metric) {
    case AgreementMetric::kCohen:
      return EvaluateCohen(p, mult);
    case AgreementMetric::kKrippendorff:
      return EvaluateKrippendorff(p, mult);
    default:
      return EvaluateKappaFamily(p, mult);
  }
}

// Nominal alpha and unweighted Fleiss on a dense design (at most 4 cells per rating, fewer than
// 255 categories, one rating per rater and item) go through the category-code fast path
// (category_codes.cpp), which gives the same values; anything else, and any error, takes the
// general path, so errors read the same either way.
std::optional<AgreementResult> RunOnCodes(const RatingSet& set, const AgreementSpec& spec) {
  const bool alpha = spec.metric == AgreementMetric::kKrippendorff &&
                     spec.level == MeasurementLevel::kNominal &&
                     spec.weights == AgreementWeights::kNone;
  const bool fleiss =
      spec.metric == AgreementMetric::kFleiss && spec.weights == AgreementWeights::kNone;
  const std::size_t cells = set.n_items() * set.n_raters();
  if (!(alpha || fleiss) || set.n_categories() >= CategoryCodes::kMissing ||
      cells > 4 * set.n_ratings() + 4096) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> codes(cells, CategoryCodes::kMissing);
  for (const CodedRating& r : set.ratings()) {
    std::uint8_t& cell = codes[std::size_t{r.item} * set.n_raters() + r.rater];
    if (cell != CategoryCodes::kMissing) return std::nullopt;  // a repeated rating
    cell = static_cast<std::uint8_t>(r.category);
  }
  const CategoryCodes dense{set.n_items(), set.n_raters(), codes};
  auto result = alpha ? KrippendorffAlphaNominal(dense) : FleissKappa(dense);
  if (!result.ok()) return std::nullopt;
  return *result;
}

Result<AgreementResult> Run(const RatingSet& set, const AgreementSpec& spec) {
  if (auto fast = RunOnCodes(set, spec)) return *fast;
  CALIPER_ASSIGN_OR_RETURN(Prepared p, Prepare(set, spec));
  Evaluation e = Evaluate(p, {});
  if (std::isnan(e.value)) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(ToString(spec.metric)) + " is undefined: " + e.undefined_because);
  }
  AgreementResult r;
  r.value = e.value;
  r.observed = e.observed;
  r.expected = e.expected;
  r.n_items = e.n_items;
  r.n_raters = p.n_raters;
  return r;
}

// Quantile with linear interpolation between order statistics (numpy's default, R type 7).
double Quantile(std::vector<double>& sorted, double prob) {
  const double h = prob * (sorted.size() - 1.0);
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

}  // namespace

Result<AgreementResult> PercentAgreement(const RatingSet& set, AgreementWeights weights) {
  return Run(set, {AgreementMetric::kPercent, MeasurementLevel::kNominal, weights});
}

Result<AgreementResult> CohenKappa(const RatingSet& set, AgreementWeights weights) {
  return Run(set, {AgreementMetric::kCohen, MeasurementLevel::kNominal, weights});
}

Result<AgreementResult> FleissKappa(const RatingSet& set, AgreementWeights weights) {
  return Run(set, {AgreementMetric::kFleiss, MeasurementLevel::kNominal, weights});
}

Result<AgreementResult> KrippendorffAlpha(const RatingSet& set, MeasurementLevel level) {
  return Run(set, {AgreementMetric::kKrippendorff, level, AgreementWeights::kNone});
}

Result<AgreementResult> GwetAc(const RatingSet& set, AgreementWeights weights) {
  return Run(set, {AgreementMetric::kGwet, MeasurementLevel::kNominal, weights});
}

Result<AgreementResult> ComputeAgreement(const RatingSet& set, const AgreementSpec& spec) {
  return Run(set, spec);
}

Result<ConfidenceInterval> BootstrapAgreement(const RatingSet& set, const AgreementSpec& spec,
                                              const BootstrapOptions& options) {
  if (options.replicates < 1) {
    return Error(ErrorCode::kInvalidArgument, "bootstrap needs at least one replicate");
  }
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return Error(ErrorCode::kInvalidArgument, "confidence must be in (0, 1)");
  }
  CALIPER_ASSIGN_OR_RETURN(Prepared p, Prepare(set, spec));
  if (std::isnan(Evaluate(p, {}).value)) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(ToString(spec.metric)) + " is undefined on the full set");
  }
  // Replicate b draws from its own generator seeded with (seed, b), so the interval depends on
  // the seed only, not on how replicates are spread over threads.
  const std::size_t n = set.n_items();
  const int replicates = options.replicates;
  std::vector<double> all(replicates, Nan());
  auto run = [&](int first, int last) {
    std::vector<std::uint32_t> mult(n);
    for (int b = first; b < last; ++b) {
      std::seed_seq seq{static_cast<std::uint32_t>(options.seed),
                        static_cast<std::uint32_t>(options.seed >> 32),
                        static_cast<std::uint32_t>(b)};
      std::mt19937_64 rng(seq);
      std::uniform_int_distribution<std::size_t> pick(0, n - 1);
      std::fill(mult.begin(), mult.end(), 0);
      for (std::size_t d = 0; d < n; ++d) ++mult[pick(rng)];
      all[b] = Evaluate(p, mult).value;
    }
  };
  if (replicates >= 4 && std::thread::hardware_concurrency() > 1) {
    std::thread other(run, replicates / 2, replicates);
    run(0, replicates / 2);
    other.join();
  } else {
    run(0, replicates);
  }
  std::vector<double> values;
  for (double v : all) {
    if (!std::isnan(v)) values.push_back(v);
  }
  if (values.size() * 2 < static_cast<std::size_t>(options.replicates)) {
    return Error(ErrorCode::kInvalidArgument,
                 "the statistic is undefined on most bootstrap replicates (too few items)");
  }
  std::sort(values.begin(), values.end());
  ConfidenceInterval ci;
  ci.lo = Quantile(values, (1.0 - options.confidence) / 2.0);
  ci.hi = Quantile(values, (1.0 + options.confidence) / 2.0);
  ci.valid_replicates = static_cast<int>(values.size());
  return ci;
}

Result<AgreementMetric> ParseAgreementMetric(std::string_view name) {
  if (name == "percent") return AgreementMetric::kPercent;
  if (name == "cohen") return AgreementMetric::kCohen;
  if (name == "fleiss") return AgreementMetric::kFleiss;
  if (name == "krippendorff") return AgreementMetric::kKrippendorff;
  if (name == "gwet") return AgreementMetric::kGwet;
  return Error(ErrorCode::kInvalidArgument, "unknown metric '" + std::string(name) +
                                                "' (percent, cohen, fleiss, krippendorff, gwet)");
}

Result<MeasurementLevel> ParseMeasurementLevel(std::string_view name) {
  if (name == "nominal") return MeasurementLevel::kNominal;
  if (name == "ordinal") return MeasurementLevel::kOrdinal;
  if (name == "interval") return MeasurementLevel::kInterval;
  if (name == "ratio") return MeasurementLevel::kRatio;
  return Error(ErrorCode::kInvalidArgument,
               "unknown level '" + std::string(name) + "' (nominal, ordinal, interval, ratio)");
}

Result<AgreementWeights> ParseAgreementWeights(std::string_view name) {
  if (name == "none") return AgreementWeights::kNone;
  if (name == "linear") return AgreementWeights::kLinear;
  if (name == "quadratic") return AgreementWeights::kQuadratic;
  return Error(ErrorCode::kInvalidArgument,
               "unknown weights '" + std::string(name) + "' (none, linear, quadratic)");
}

std::string_view ToString(AgreementMetric metric) {
  switch (metric) {
    case AgreementMetric::kPercent:
      return "percent";
    case AgreementMetric::kCohen:
      return "cohen";
    case AgreementMetric::kFleiss:
      return "fleiss";
    case AgreementMetric::kKrippendorff:
      return "krippendorff";
    case AgreementMetric::kGwet:
      return "gwet";
  }
  return "unknown";
}

}  // namespace caliper::quality
