#pragma once

// Probabilistic fusion of categorical labels: Dawid & Skene (1979), "Maximum likelihood
// estimation of observer error-rates using the EM algorithm", Applied Statistics 28(1):20-28.
// Majority vote is here only as the baseline to report beside it.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/quality/ratings.h"

namespace caliper::quality {

struct DawidSkeneOptions {
  int max_iterations = 1000;
  // Stop when the log-likelihood rises by less than this (absolute, nats) between iterations.
  double tolerance = 1e-10;
  // Added to every confusion-matrix count and class count in the M-step. 0 (the default) is
  // the paper's maximum-likelihood estimate; a positive value keeps rates off 0 and 1.
  double pseudo_count = 0;
};

struct DawidSkeneResult {
  std::size_t n_classes = 0;
  std::vector<double> priors;  // p_j, one per category of the RatingSet
  // confusion[r][j * n_classes + l] = P(rater r answers l | true class j). A row with no
  // evidence (the rater never saw an item of class j) is uniform.
  std::vector<std::vector<double>> confusion;
  // posteriors[i * n_classes + j] = P(item i is of class j | ratings). Items without ratings
  // get the priors.
  std::vector<double> posteriors;
  double log_likelihood = 0;  // of the returned parameters, natural log (DS 1979 eq. 2.7)
  int iterations = 0;
  bool converged = false;
};

// EM as in the paper: the class indicators start as each item's response proportions
// (all of its ratings, repeats included: eq. 3.1), then M-step (eqs. 2.3, 2.4) and E-step
// (eq. 2.5) alternate until the log-likelihood improvement is below options.tolerance.
// Repeated ratings of an item by one rater count as independent draws from that rater's
// confusion row, as in the paper's anaesthetist data. Errors: kInvalidArgument for bad options.
Result<DawidSkeneResult> DawidSkene(const RatingSet& set, const DawidSkeneOptions& options = {});

struct MajorityVoteResult {
  // Per item: the category with the most ratings (ties go to the lowest category index, and
  // are flagged), its share of the item's ratings, and whether it tied. Items without ratings
  // have winner = n_categories and share 0.
  std::vector<std::uint32_t> winner;
  std::vector<double> share;
  std::vector<bool> tied;
};

MajorityVoteResult MajorityVote(const RatingSet& set);

}  // namespace caliper::quality
