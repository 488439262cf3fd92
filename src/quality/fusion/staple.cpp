// STAPLE on a histogram of decision patterns (staple.h explains why that is exact).

#include "caliper/quality/staple.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <thread>
#include <unordered_map>

namespace caliper::quality {
namespace {

constexpr std::size_t kBlock = 4096;             // voxels per pass block (fits in L1/L2)
constexpr std::uint64_t kDenseLimit = 1u << 20;  // dense pattern table up to this many codes

// label index per voxel value (0..255)
using Lut = std::array<std::uint8_t, 256>;

constexpr std::size_t kTwoThreadVoxels = std::size_t{1} << 20;

// Runs f(begin, end, half) on the two halves of [0, n) (split at a block boundary) on two
// threads; volumes under kTwoThreadVoxels run as one range (half 0) on the calling thread.
template <typename F>
void InTwoHalves(std::size_t n, F f) {
  if (n < kTwoThreadVoxels) {
    f(std::size_t{0}, n, 0);
    return;
  }
  const std::size_t half = n / 2 / kBlock * kBlock;
  std::thread worker([&] { f(half, n, 1); });
  f(std::size_t{0}, half, 0);
  worker.join();
}

// The distinct decision patterns in the volumes and how many voxels show each. A pattern's
// code is sum_r digit_r * K^r, digit_r being rater r's label index at the voxel.
class PatternHistogram {
 public:
  PatternHistogram(std::span<const MaskView> raters, const Lut& lut, std::size_t n_labels)
      : raters_(raters), lut_(lut), k_(n_labels) {
    std::uint64_t codes = 1;
    for (std::size_t r = 0; r < raters.size(); ++r) codes *= k_;
    dense_ = codes <= kDenseLimit;
    if (dense_) {
      // Count every code in a flat table, then keep the codes that occur.
      std::vector<std::uint64_t> counts(codes, 0);
      std::vector<std::uint64_t> second(voxels() < kTwoThreadVoxels ? 0 : codes, 0);
      InTwoHalves(voxels(), [&](std::size_t begin, std::size_t end, int half) {
        std::vector<std::uint64_t>& c = half == 0 ? counts : second;
        ForEachBlock(begin, end, [&](std::size_t, std::span<const std::uint64_t> block) {
          for (std::uint64_t code : block) ++c[code];
        });
      });
      for (std::size_t code = 0; code < second.size(); ++code) counts[code] += second[code];
      dense_index_.assign(codes, kAbsent);
      for (std::uint64_t code = 0; code < codes; ++code) {
        if (counts[code] == 0) continue;
        dense_index_[code] = Add(code);
        counts_.back() = static_cast<double>(counts[code]);
      }
    } else {
      ForEachBlock(0, voxels(), [&](std::size_t, std::span<const std::uint64_t> block) {
        for (std::uint64_t code : block) {
          auto it = sparse_index_.find(code);
          if (it == sparse_index_.end()) it = sparse_index_.emplace(code, Add(code)).first;
          counts_[it->second] += 1;
        }
      });
    }
  }

  std::size_t size() const { return codes_.size(); }
  std::size_t voxels() const { return raters_[0].voxels.size(); }
  std::size_t raters() const { return raters_.size(); }
  double count(std::size_t p) const { return counts_[p]; }
  std::uint8_t digit(std::size_t p, std::size_t r) const { return digits_[p * raters() + r]; }

  // Calls f(first_voxel, codes) for consecutive blocks of the voxels [begin, end).
  template <typename F>
  void ForEachBlock(std::size_t begin, std::size_t end, F f) const {
    std::vector<std::uint64_t> codes(kBlock);
    for (std::size_t start = begin; start < end; start += kBlock) {
      const std::size_t len = std::min(kBlock, end - start);
      std::fill_n(codes.begin(), len, 0);
      for (std::size_t r = raters_.size(); r-- > 0;) {
        const std::uint8_t* v = raters_[r].voxels.data() + start;
        for (std::size_t j = 0; j < len; ++j) codes[j] = codes[j] * k_ + lut_[v[j]];
      }
      f(start, std::span<const std::uint64_t>(codes.data(), len));
    }
  }

  // Writes value[pattern of voxel i] to out[i] for every voxel: the one pass that maps the
  // EM's per-pattern answer back onto the volume (two threads, each writing its half).
  template <typename T>
  void Paint(const std::vector<T>& per_pattern, std::vector<T>& out) const {
    out.resize(voxels());
    std::vector<T> by_code;
    if (dense_) {
      by_code.resize(dense_index_.size());
      for (std::size_t c = 0; c < dense_index_.size(); ++c) {
        if (dense_index_[c] != kAbsent) by_code[c] = per_pattern[dense_index_[c]];
      }
    }
    InTwoHalves(voxels(), [&](std::size_t begin, std::size_t end, int) {
      ForEachBlock(begin, end, [&](std::size_t start, std::span<const std::uint64_t> codes) {
        T* o = out.data() + start;
        if (dense_) {
          for (std::size_t j = 0; j < codes.size(); ++j) o[j] = by_code[codes[j]];
        } else {
          for (std::size_t j = 0; j < codes.size(); ++j) o[j] = per_pattern[sparse_index_.at(codes[j])];
        }
      });
    });
  }

 private:
  static constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();

  std::uint32_t Add(std::uint64_t code) {
    const auto index = static_cast<std::uint32_t>(codes_.size());
    codes_.push_back(code);
    counts_.push_back(0);
    for (std::size_t r = 0; r < raters(); ++r) {
      digits_.push_back(static_cast<std::uint8_t>(code % k_));
      code /= k_;
    }
    return index;
  }

  std::span<const MaskView> raters_;
  const Lut& lut_;
  std::uint64_t k_;
  bool dense_ = false;
  std::vector<std::uint32_t> dense_index_;
  std::unordered_map<std::uint64_t, std::uint32_t> sparse_index_;
  std::vector<std::uint64_t> codes_;
  std::vector<double> counts_;
  std::vector<std::uint8_t> digits_;  // patterns x raters
};

struct EmResult {
  std::vector<double> priors;              // K
  std::vector<std::vector<double>> theta;  // per rater, K x K [truth][decision]
  std::vector<double> w;                   // patterns x K posteriors
  int iterations = 0;
  bool converged = false;
};

// The share of raters voting each label, per pattern.
std::vector<double> VoteShares(const PatternHistogram& h, std::size_t k) {
  std::vector<double> w(h.size() * k, 0.0);
  for (std::size_t p = 0; p < h.size(); ++p) {
    for (std::size_t r = 0; r < h.raters(); ++r) w[p * k + h.digit(p, r)] += 1.0 / h.raters();
  }
  return w;
}

EmResult RunEm(const PatternHistogram& h, std::size_t k, const StapleOptions& options) {
  const std::size_t R = h.raters(), P = h.size();
  EmResult em;
  em.w = VoteShares(h, k);
  const std::vector<double> shares = em.w;
  em.priors.assign(k, 0.0);
  double voxels = 0;
  for (std::size_t p = 0; p < P; ++p) {
    voxels += h.count(p);
    for (std::size_t s = 0; s < k; ++s) em.priors[s] += h.count(p) * em.w[p * k + s];
  }
  for (auto& f : em.priors) f /= voxels;
  em.theta.assign(R, std::vector<double>(k * k, 0.0));
  std::vector<std::vector<double>> previous = em.theta;
  std::vector<double> denominator(k);

  for (em.iterations = 1; em.iterations <= options.max_iterations; ++em.iterations) {
    // M-step: theta_r(t | s) = sum_p c_p W_ps [d_pr = t] / sum_p c_p W_ps.
    std::fill(denominator.begin(), denominator.end(), 0.0);
    for (auto& t : em.theta) std::fill(t.begin(), t.end(), 0.0);
    for (std::size_t p = 0; p < P; ++p) {
      for (std::size_t s = 0; s < k; ++s) {
        const double mass = h.count(p) * em.w[p * k + s];
        denominator[s] += mass;
        for (std::size_t r = 0; r < R; ++r) em.theta[r][s * k + h.digit(p, r)] += mass;
      }
    }
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t s = 0; s < k; ++s) {
        for (std::size_t t = 0; t < k; ++t) {
          double& x = em.theta[r][s * k + t];
          x = denominator[s] > 0 ? x / denominator[s] : previous[r][s * k + t];
        }
      }
    }
    // E-step: W_ps proportional to f_s prod_r theta_r(d_pr | s).
    for (std::size_t p = 0; p < P; ++p) {
      double sum = 0;
      for (std::size_t s = 0; s < k; ++s) {
        double x = em.priors[s];
        for (std::size_t r = 0; r < R; ++r) x *= em.theta[r][s * k + h.digit(p, r)];
        em.w[p * k + s] = x;
        sum += x;
      }
      for (std::size_t s = 0; s < k; ++s) {
        em.w[p * k + s] = sum > 0 ? em.w[p * k + s] / sum : shares[p * k + s];
      }
    }
    double change = 0;
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t x = 0; x < k * k; ++x) {
        change = std::max(change, std::abs(em.theta[r][x] - previous[r][x]));
      }
    }
    previous = em.theta;
    if (em.iterations > 1 && change <= options.tolerance) {
      em.converged = true;
      break;
    }
  }
  em.iterations = std::min(em.iterations, options.max_iterations);
  return em;
}

Status CheckInputs(std::span<const MaskView> raters, const StapleOptions& options) {
  if (raters.size() < 2) return Error(ErrorCode::kInvalidArgument, "STAPLE needs two raters");
  if (raters.size() > 63) return Error(ErrorCode::kInvalidArgument, "at most 63 raters");
  if (options.max_iterations < 1 || !(options.tolerance >= 0)) {
    return Error(ErrorCode::kInvalidArgument, "STAPLE needs max_iterations >= 1, tolerance >= 0");
  }
  for (const auto& m : raters) {
    CALIPER_RETURN_IF_ERROR(ValidateMask(m));
    CALIPER_RETURN_IF_ERROR(CheckSameGrid(raters[0].grid, m.grid));
  }
  return Status::Ok();
}

}  // namespace

Result<BinaryStapleResult> StapleBinary(std::span<const MaskView> raters,
                                        const StapleOptions& options) {
  CALIPER_RETURN_IF_ERROR(CheckInputs(raters, options));
  Lut lut;
  lut.fill(1);
  lut[0] = 0;
  PatternHistogram h(raters, lut, 2);
  if (h.size() == 1) {
    bool unanimous = true;
    for (std::size_t r = 1; r < h.raters(); ++r) unanimous &= h.digit(0, r) == h.digit(0, 0);
    if (unanimous) {
      return Error(ErrorCode::kInvalidArgument, h.digit(0, 0) == 0
                                                    ? "every mask is empty: nothing to fuse"
                                                    : "every mask is full: nothing to fuse");
    }
  }
  EmResult em = RunEm(h, 2, options);
  BinaryStapleResult out;
  out.prior = em.priors[1];
  for (const auto& t : em.theta) {
    out.sensitivity.push_back(t[1 * 2 + 1]);
    out.specificity.push_back(t[0 * 2 + 0]);
  }
  out.distinct_patterns = h.size();
  out.iterations = em.iterations;
  out.converged = em.converged;
  std::vector<float> per_pattern(h.size());
  for (std::size_t p = 0; p < h.size(); ++p) per_pattern[p] = static_cast<float>(em.w[p * 2 + 1]);
  h.Paint(per_pattern, out.consensus);
  return out;
}

Result<MultiLabelStapleResult> StapleMultiLabel(std::span<const MaskView> raters,
                                                const StapleOptions& options) {
  CALIPER_RETURN_IF_ERROR(CheckInputs(raters, options));
  std::array<bool, 256> present{};
  for (const auto& m : raters) {
    for (std::uint8_t v : m.voxels) present[v] = true;
  }
  MultiLabelStapleResult out;
  Lut lut{};
  for (int v = 0; v < 256; ++v) {
    if (!present[v]) continue;
    lut[v] = static_cast<std::uint8_t>(out.labels.size());
    out.labels.push_back(static_cast<std::uint8_t>(v));
  }
  const std::size_t k = out.labels.size();
  if (k < 2) return Error(ErrorCode::kInvalidArgument, "only one label present: nothing to fuse");
  if (raters.size() * std::log2(static_cast<double>(k)) > 63) {
    return Error(ErrorCode::kInvalidArgument, "too many labels and raters for pattern codes");
  }
  PatternHistogram h(raters, lut, k);
  EmResult em = RunEm(h, k, options);
  out.priors = em.priors;
  out.confusion = em.theta;
  out.distinct_patterns = h.size();
  out.iterations = em.iterations;
  out.converged = em.converged;
  std::vector<std::uint8_t> best_label(h.size());
  std::vector<float> best_probability(h.size());
  for (std::size_t p = 0; p < h.size(); ++p) {
    std::size_t best = 0;
    for (std::size_t s = 1; s < k; ++s) {
      if (em.w[p * k + s] > em.w[p * k + best]) best = s;
    }
    best_label[p] = out.labels[best];
    best_probability[p] = static_cast<float>(em.w[p * k + best]);
  }
  h.Paint(best_label, out.consensus);
  h.Paint(best_probability, out.confidence);
  return out;
}

}  // namespace caliper::quality
