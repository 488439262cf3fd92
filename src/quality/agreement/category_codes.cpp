// The category-code fast path of agreement.h (docs/quality.md, "Speed"). Fleiss' kappa and
// nominal Krippendorff's alpha depend on the ratings only through, for each number m of ratings
// on an item: how many items had m ratings, the histogram of their categories, and the number of
// agreeing rating pairs among them (sum over items of sum_k r_ik (r_ik - 1) / 2). One pass
// gathers these integer counts (split over two threads for large inputs), and the statistics
// are a few sums over them:
//   Fleiss: p_a = mean over items with m >= 2 of 2 pairs / (m (m - 1)),
//           pi_k = mean over items with m >= 1 of r_ik / m, p_e = sum_k pi_k^2;
//   alpha (Krippendorff 2011): n_c = sum over items with m >= 2 of r_ic, n = sum_c n_c,
//           sum_c o_cc = sum over those items of 2 pairs / (m - 1),
//           D_o = (n - sum_c o_cc) / n, D_e = (n^2 - sum_c n_c^2) / (n (n - 1)).

#include <array>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "caliper/quality/agreement.h"

namespace caliper::quality {
namespace {

constexpr std::size_t kCategories = 256;  // codes are bytes; 255 is kMissing

struct CodeSummary {
  std::size_t n_raters = 0;
  std::vector<std::uint64_t> items_by_m;  // [m]
  std::vector<std::uint64_t> pairs_by_m;  // [m] agreeing unordered pairs
  std::vector<std::uint64_t> histogram;   // [m * kCategories + category]
  std::vector<std::uint8_t> rater_seen;   // [rater]

  explicit CodeSummary(std::size_t raters)
      : n_raters(raters),
        items_by_m(raters + 1),
        pairs_by_m(raters + 1),
        histogram((raters + 1) * kCategories),
        rater_seen(raters) {}

  void Add(const CodeSummary& o) {
    for (std::size_t i = 0; i < items_by_m.size(); ++i) items_by_m[i] += o.items_by_m[i];
    for (std::size_t i = 0; i < pairs_by_m.size(); ++i) pairs_by_m[i] += o.pairs_by_m[i];
    for (std::size_t i = 0; i < histogram.size(); ++i) histogram[i] += o.histogram[i];
    for (std::size_t i = 0; i < rater_seen.size(); ++i) rater_seen[i] |= o.rater_seen[i];
  }
};

// Any number of raters: counts within the item in a small table.
void SummariseRange(const CategoryCodes& c, std::size_t begin, std::size_t end, CodeSummary& s) {
  const std::size_t raters = c.n_raters;
  std::array<std::uint32_t, kCategories> seen{};  // counts within the current item
  for (std::size_t i = begin; i < end; ++i) {
    const std::uint8_t* row = c.codes.data() + i * raters;
    std::size_t m = 0;
    std::uint64_t pairs = 0;
    for (std::size_t r = 0; r < raters; ++r) {
      const std::uint8_t code = row[r];
      const bool present = code != CategoryCodes::kMissing;
      s.rater_seen[r] |= present;
      m += present;
      pairs += present ? seen[code]++ : 0;
    }
    std::uint64_t* h = s.histogram.data() + m * kCategories;
    for (std::size_t r = 0; r < raters; ++r) {
      const std::uint8_t code = row[r];
      if (code == CategoryCodes::kMissing) continue;
      ++h[code];
      seen[code] = 0;
    }
    ++s.items_by_m[m];
    s.pairs_by_m[m] += pairs;
  }
}

// The (r, q) index pairs r < q of R raters.
template <std::size_t R>
constexpr auto kPairs = [] {
  std::array<std::pair<std::size_t, std::size_t>, R * (R - 1) / 2> pairs{};
  std::size_t n = 0;
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t q = r + 1; q < R; ++q) pairs[n++] = {r, q};
  }
  return pairs;
}();

// R raters known at compile time (the common small designs): pairs by comparing every two
// ratings, and one histogram per rater slot, so no increment waits on the previous one; a
// missing code lands in slot kMissing and is dropped when the tables are folded.
template <std::size_t R>
void SummariseRangeFixed(const CategoryCodes& c, std::size_t begin, std::size_t end,
                         CodeSummary& s) {
  std::vector<std::uint64_t> table((R + 1) * R * kCategories, 0);  // [(m * R + r) * 256 + code]
  std::uint64_t* const t = table.data();
  std::array<std::uint64_t, R + 1> items{}, pairs_by_m{};
  const std::uint8_t* row = c.codes.data() + begin * R;
  for (std::size_t i = begin; i < end; ++i, row += R) {
    // Unrolled over the R ratings and the R (R - 1) / 2 pairs (loops over a compile-time R are
    // not unrolled at -O2).
    const std::size_t m = [row]<std::size_t... r>(std::index_sequence<r...>) {
      return ((row[r] != CategoryCodes::kMissing) + ...);
    }(std::make_index_sequence<R>{});
    const std::uint64_t pairs = [row]<std::size_t... p>(std::index_sequence<p...>) {
      return (0u + ... + ((row[kPairs<R>[p].first] == row[kPairs<R>[p].second]) &
                          (row[kPairs<R>[p].first] != CategoryCodes::kMissing)));
    }(std::make_index_sequence<R * (R - 1) / 2>{});
    std::uint64_t* h = t + m * R * kCategories;
    [&]<std::size_t... r>(std::index_sequence<r...>) {
      ((++h[r * kCategories + row[r]]), ...);
    }(std::make_index_sequence<R>{});
    ++items[m];
    pairs_by_m[m] += pairs;
  }
  for (std::size_t m = 0; m <= R; ++m) {
    s.items_by_m[m] += items[m];
    s.pairs_by_m[m] += pairs_by_m[m];
  }
  for (std::size_t m = 1; m <= R; ++m) {
    for (std::size_t r = 0; r < R; ++r) {
      const std::uint64_t* h = t + (m * R + r) * kCategories;
      for (std::size_t k = 0; k < CategoryCodes::kMissing; ++k) {
        s.histogram[m * kCategories + k] += h[k];
        if (h[k] != 0) s.rater_seen[r] = 1;
      }
    }
  }
}

void SummariseAny(const CategoryCodes& c, std::size_t begin, std::size_t end, CodeSummary& s) {
  switch (c.n_raters) {
    case 2: return SummariseRangeFixed<2>(c, begin, end, s);
    case 3: return SummariseRangeFixed<3>(c, begin, end, s);
    case 4: return SummariseRangeFixed<4>(c, begin, end, s);
    case 5: return SummariseRangeFixed<5>(c, begin, end, s);
    case 6: return SummariseRangeFixed<6>(c, begin, end, s);
    case 7: return SummariseRangeFixed<7>(c, begin, end, s);
    case 8: return SummariseRangeFixed<8>(c, begin, end, s);
    default: return SummariseRange(c, begin, end, s);
  }
}

Result<CodeSummary> Summarise(const CategoryCodes& c) {
  if (c.n_raters == 0 || c.codes.size() != c.n_items * c.n_raters) {
    return Error(ErrorCode::kInvalidArgument,
                 "category codes: the matrix size does not match items x raters");
  }
  CodeSummary total(c.n_raters);
  if (c.n_items < (1u << 16)) {
    SummariseAny(c, 0, c.n_items, total);
    return total;
  }
  CodeSummary second(c.n_raters);
  const std::size_t half = c.n_items / 2;
  std::thread worker([&] { SummariseAny(c, half, c.n_items, second); });
  SummariseAny(c, 0, half, total);
  worker.join();
  total.Add(second);
  return total;
}

std::size_t RatersPresent(const CodeSummary& s) {
  std::size_t n = 0;
  for (std::uint8_t seen : s.rater_seen) n += seen;
  return n;
}

Result<AgreementResult> Undefined(const char* metric, const char* because) {
  return Error(ErrorCode::kInvalidArgument, std::string(metric) + " is undefined: " + because);
}

}  // namespace

Result<AgreementResult> FleissKappa(const CategoryCodes& codes) {
  CALIPER_ASSIGN_OR_RETURN(CodeSummary s, Summarise(codes));
  double p_a = 0, pairable = 0, rated = 0;
  std::vector<double> pi(kCategories, 0.0);
  for (std::size_t m = 1; m <= s.n_raters; ++m) {
    rated += static_cast<double>(s.items_by_m[m]);
    for (std::size_t k = 0; k < kCategories; ++k) {
      pi[k] += static_cast<double>(s.histogram[m * kCategories + k]) / static_cast<double>(m);
    }
    if (m < 2) continue;
    pairable += static_cast<double>(s.items_by_m[m]);
    p_a += 2.0 * static_cast<double>(s.pairs_by_m[m]) / static_cast<double>(m * (m - 1));
  }
  if (pairable == 0) return Undefined("fleiss", "no item has two or more ratings");
  double p_e = 0;
  for (double share : pi) p_e += (share / rated) * (share / rated);
  AgreementResult r;
  r.observed = p_a / pairable;
  r.expected = p_e;
  if (p_e >= 1.0 - 1e-15) {
    return Undefined("fleiss", "chance agreement is 1 (every rating is in one category)");
  }
  r.value = (r.observed - p_e) / (1.0 - p_e);
  r.n_items = static_cast<std::size_t>(pairable);
  r.n_raters = RatersPresent(s);
  return r;
}

Result<AgreementResult> KrippendorffAlphaNominal(const CategoryCodes& codes) {
  CALIPER_ASSIGN_OR_RETURN(CodeSummary s, Summarise(codes));
  std::vector<double> n_c(kCategories, 0.0);
  double diagonal = 0, pairable = 0;
  for (std::size_t m = 2; m <= s.n_raters; ++m) {
    pairable += static_cast<double>(s.items_by_m[m]);
    diagonal += 2.0 * static_cast<double>(s.pairs_by_m[m]) / static_cast<double>(m - 1);
    for (std::size_t k = 0; k < kCategories; ++k) {
      n_c[k] += static_cast<double>(s.histogram[m * kCategories + k]);
    }
  }
  double n = 0, sum_sq = 0;
  for (double x : n_c) {
    n += x;
    sum_sq += x * x;
  }
  if (n < 2) return Undefined("krippendorff", "fewer than two pairable values");
  AgreementResult r;
  r.observed = (n - diagonal) / n;
  r.expected = (n * n - sum_sq) / (n * (n - 1));
  if (r.expected <= 0) {
    return Undefined("krippendorff", "no expected disagreement (every value is the same)");
  }
  r.value = 1.0 - r.observed / r.expected;
  r.n_items = static_cast<std::size_t>(pairable);
  r.n_raters = RatersPresent(s);
  return r;
}

}  // namespace caliper::quality
