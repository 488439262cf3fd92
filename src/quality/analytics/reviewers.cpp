#include "caliper/quality/reviewers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

namespace caliper::quality {
namespace {

// log of the hypergeometric probability of the table with top-left cell x for fixed margins
// (row1 = a + b, col1 = a + c, total n).
double LogHypergeometric(std::int64_t x, std::int64_t row1, std::int64_t col1, std::int64_t n) {
  auto lchoose = [](std::int64_t k_n, std::int64_t k) {
    return std::lgamma(static_cast<double>(k_n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
           std::lgamma(static_cast<double>(k_n - k) + 1);
  };
  return lchoose(col1, x) + lchoose(n - col1, row1 - x) - lchoose(n, row1);
}

}  // namespace

double FisherExactTwoSided(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d) {
  const std::int64_t row1 = a + b;
  const std::int64_t col1 = a + c;
  const std::int64_t n = a + b + c + d;
  if (n == 0 || row1 == 0 || row1 == n || col1 == 0 || col1 == n) return 1.0;
  const std::int64_t lo = std::max<std::int64_t>(0, row1 + col1 - n);
  const std::int64_t hi = std::min(row1, col1);
  const double observed = LogHypergeometric(a, row1, col1, n);
  // Tables as probable as the observed one within a relative 1e-7 count as "no more probable"
  // (R's fisher.test uses the same tolerance), so ties from rounding are not lost.
  const double threshold = observed + std::log1p(1e-7);
  double p = 0;
  for (std::int64_t x = lo; x <= hi; ++x) {
    const double lp = LogHypergeometric(x, row1, col1, n);
    if (lp <= threshold) p += std::exp(lp);
  }
  return std::min(1.0, p);
}

double FisherExactLess(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d) {
  const std::int64_t row1 = a + b;
  const std::int64_t col1 = a + c;
  const std::int64_t n = a + b + c + d;
  if (n == 0 || row1 == 0 || row1 == n || col1 == 0 || col1 == n) return 1.0;
  const std::int64_t lo = std::max<std::int64_t>(0, row1 + col1 - n);
  double p = 0;
  for (std::int64_t x = lo; x <= a; ++x) p += std::exp(LogHypergeometric(x, row1, col1, n));
  return std::min(1.0, p);
}

std::vector<double> HolmAdjust(std::span<const double> p) {
  const std::size_t m = p.size();
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
  std::vector<double> adjusted(m, 1.0);
  double running = 0;
  for (std::size_t rank = 0; rank < m; ++rank) {
    const double value = std::min(1.0, static_cast<double>(m - rank) * p[order[rank]]);
    running = std::max(running, value);
    adjusted[order[rank]] = running;
  }
  return adjusted;
}

Result<ReaderAnalytics> AnalyseReaders(std::span<const Rating> ratings,
                                       std::span<const ReferenceLabel> reference, double alpha) {
  if (!(alpha > 0 && alpha < 1)) {
    return Error(ErrorCode::kInvalidArgument, "alpha must be in (0, 1)");
  }
  std::unordered_map<std::string, std::string> truth;
  std::map<std::string, std::size_t> category_index;
  for (const auto& ref : reference) {
    if (ref.item.empty() || ref.value.empty()) {
      return Error(ErrorCode::kInvalidArgument, "a reference label has an empty item or value");
    }
    auto [it, inserted] = truth.emplace(ref.item, ref.value);
    if (!inserted && it->second != ref.value) {
      return Error(ErrorCode::kInvalidArgument,
                   "item '" + ref.item + "' has two different reference labels");
    }
    category_index.emplace(ref.value, 0);
  }
  ReaderAnalytics out;
  out.alpha = alpha;
  std::unordered_map<std::string, std::size_t> reader_index;
  for (const auto& r : ratings) {
    if (r.item.empty() || r.rater.empty() || r.value.empty()) {
      return Error(ErrorCode::kInvalidArgument, "a rating has an empty item, reader or value");
    }
    category_index.emplace(r.value, 0);
    if (reader_index.emplace(r.rater, out.readers.size()).second) {
      ReaderScore score;
      score.reader = r.rater;
      out.readers.push_back(std::move(score));
    }
  }
  for (auto& [label, index] : category_index) {
    index = out.categories.size();
    out.categories.push_back(label);
  }
  const std::size_t k = out.categories.size();
  for (auto& reader : out.readers) reader.confusion.assign(k, std::vector<std::int64_t>(k, 0));

  for (const auto& r : ratings) {
    auto ref = truth.find(r.item);
    if (ref == truth.end()) {
      ++out.unreferenced;
      continue;
    }
    ReaderScore& score = out.readers[reader_index[r.rater]];
    ++score.n;
    if (r.value == ref->second) ++score.agree;
    ++score.confusion[category_index[ref->second]][category_index[r.value]];
  }

  std::int64_t total_n = 0;
  std::int64_t total_agree = 0;
  for (const auto& s : out.readers) {
    total_n += s.n;
    total_agree += s.agree;
  }
  std::vector<double> p(out.readers.size(), 1.0);
  for (std::size_t i = 0; i < out.readers.size(); ++i) {
    ReaderScore& s = out.readers[i];
    const std::int64_t peers_n = total_n - s.n;
    const std::int64_t peers_agree = total_agree - s.agree;
    s.accuracy = s.n > 0 ? static_cast<double>(s.agree) / static_cast<double>(s.n)
                         : std::numeric_limits<double>::quiet_NaN();
    s.peers_accuracy = peers_n > 0
                           ? static_cast<double>(peers_agree) / static_cast<double>(peers_n)
                           : std::numeric_limits<double>::quiet_NaN();
    if (s.n > 0 && peers_n > 0) {
      s.p_value = FisherExactLess(s.agree, s.n - s.agree, peers_agree, peers_n - peers_agree);
    }
    p[i] = s.p_value;
  }
  const std::vector<double> adjusted = HolmAdjust(p);
  for (std::size_t i = 0; i < out.readers.size(); ++i) {
    ReaderScore& s = out.readers[i];
    s.p_adjusted = adjusted[i];
    s.flagged = s.n > 0 && s.p_adjusted < alpha;
  }
  return out;
}

}  // namespace caliper::quality
