#include "caliper/quality/dawid_skene.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace caliper::quality {
namespace {

// M-step (DS 1979 eqs. 2.3 and 2.4): class priors and per-rater confusion rows from the
// current class indicators T (items x classes).
void MStep(const RatingSet& set, const std::vector<double>& t, const std::vector<bool>& rated,
           double pseudo, DawidSkeneResult& out) {
  const std::size_t k = out.n_classes;
  const std::size_t n = set.n_items();
  std::fill(out.priors.begin(), out.priors.end(), pseudo);
  double rated_items = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!rated[i]) continue;
    rated_items += 1;
    for (std::size_t j = 0; j < k; ++j) out.priors[j] += t[i * k + j];
  }
  for (auto& p : out.priors) p /= rated_items + pseudo * k;

  for (auto& c : out.confusion) std::fill(c.begin(), c.end(), pseudo);
  for (const auto& r : set.ratings()) {
    auto& c = out.confusion[r.rater];
    for (std::size_t j = 0; j < k; ++j) c[j * k + r.category] += t[r.item * k + j];
  }
  for (auto& c : out.confusion) {
    for (std::size_t j = 0; j < k; ++j) {
      double row = 0;
      for (std::size_t l = 0; l < k; ++l) row += c[j * k + l];
      for (std::size_t l = 0; l < k; ++l) c[j * k + l] = row > 0 ? c[j * k + l] / row : 1.0 / k;
    }
  }
}

// E-step (eq. 2.5) in logs; returns the log-likelihood (eq. 2.7).
double EStep(const RatingSet& set, const std::vector<bool>& rated, DawidSkeneResult& out,
             std::vector<double>& t) {
  const std::size_t k = out.n_classes;
  const double kNegInf = -std::numeric_limits<double>::infinity();
  std::vector<double> log_prior(k);
  for (std::size_t j = 0; j < k; ++j) {
    log_prior[j] = out.priors[j] > 0 ? std::log(out.priors[j]) : kNegInf;
  }
  std::vector<std::vector<double>> log_conf(out.confusion.size());
  for (std::size_t r = 0; r < out.confusion.size(); ++r) {
    log_conf[r].resize(k * k);
    for (std::size_t x = 0; x < k * k; ++x) {
      log_conf[r][x] = out.confusion[r][x] > 0 ? std::log(out.confusion[r][x]) : kNegInf;
    }
  }
  double log_likelihood = 0;
  std::vector<double> log_post(k);
  for (std::size_t i = 0; i < set.n_items(); ++i) {
    if (!rated[i]) {
      std::copy(out.priors.begin(), out.priors.end(), t.begin() + i * k);
      continue;
    }
    log_post = log_prior;
    for (const auto& r : set.ItemRatings(i)) {
      for (std::size_t j = 0; j < k; ++j) log_post[j] += log_conf[r.rater][j * k + r.category];
    }
    const double top = *std::max_element(log_post.begin(), log_post.end());
    double sum = 0;
    for (std::size_t j = 0; j < k; ++j) {
      const double e = top == kNegInf ? 0.0 : std::exp(log_post[j] - top);
      t[i * k + j] = e;
      sum += e;
    }
    if (sum > 0) {
      for (std::size_t j = 0; j < k; ++j) t[i * k + j] /= sum;
      log_likelihood += top + std::log(sum);
    } else {
      // No class can produce these ratings under the current parameters: keep the item
      // uninformative rather than divide by zero.
      for (std::size_t j = 0; j < k; ++j) t[i * k + j] = 1.0 / k;
      log_likelihood = kNegInf;
    }
  }
  return log_likelihood;
}

}  // namespace

Result<DawidSkeneResult> DawidSkene(const RatingSet& set, const DawidSkeneOptions& options) {
  if (options.max_iterations < 1 || !(options.tolerance >= 0) || !(options.pseudo_count >= 0)) {
    return Error(ErrorCode::kInvalidArgument,
                 "Dawid-Skene needs max_iterations >= 1, tolerance >= 0, pseudo_count >= 0");
  }
  DawidSkeneResult out;
  const std::size_t k = set.n_categories();
  const std::size_t n = set.n_items();
  out.n_classes = k;
  out.priors.assign(k, 0.0);
  out.confusion.assign(set.n_raters(), std::vector<double>(k * k, 0.0));

  // Initial class indicators: each item's response proportions (eq. 3.1).
  std::vector<double> t(n * k, 0.0);
  std::vector<bool> rated(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    auto ratings = set.ItemRatings(i);
    rated[i] = !ratings.empty();
    for (const auto& r : ratings) t[i * k + r.category] += 1.0 / ratings.size();
  }

  double previous = -std::numeric_limits<double>::infinity();
  for (out.iterations = 1; out.iterations <= options.max_iterations; ++out.iterations) {
    MStep(set, t, rated, options.pseudo_count, out);
    out.log_likelihood = EStep(set, rated, out, t);
    if (out.log_likelihood - previous < options.tolerance && out.iterations > 1) {
      out.converged = true;
      break;
    }
    previous = out.log_likelihood;
  }
  out.iterations = std::min(out.iterations, options.max_iterations);
  out.posteriors = std::move(t);
  return out;
}

MajorityVoteResult MajorityVote(const RatingSet& set) {
  const std::size_t k = set.n_categories();
  MajorityVoteResult out;
  out.winner.assign(set.n_items(), static_cast<std::uint32_t>(k));
  out.share.assign(set.n_items(), 0.0);
  out.tied.assign(set.n_items(), false);
  std::vector<std::uint32_t> votes(k);
  for (std::size_t i = 0; i < set.n_items(); ++i) {
    auto ratings = set.ItemRatings(i);
    if (ratings.empty()) continue;
    std::fill(votes.begin(), votes.end(), 0);
    for (const auto& r : ratings) ++votes[r.category];
    auto best = std::max_element(votes.begin(), votes.end());
    out.winner[i] = static_cast<std::uint32_t>(best - votes.begin());
    out.share[i] = static_cast<double>(*best) / ratings.size();
    out.tied[i] = std::count(votes.begin(), votes.end(), *best) > 1;
  }
  return out;
}

}  // namespace caliper::quality
