#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

// Deterministic pseudo-random numbers for generators, sampling and bootstraps: the same seed
// gives the same numbers on every platform. Never for secrets (use security/crypto.h).

namespace caliper {

// SplitMix64 (Steele, Lea, Flood 2014). Fixed arithmetic, so every platform draws the same
// numbers; std:: distributions are implementation-defined and are avoided for that reason.
inline std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// An independent seed for item `index` of stream `stream` (e.g. patient 3) under `seed`.
inline std::uint64_t Mix(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  return SplitMix64(SplitMix64(seed ^ SplitMix64(stream)) + index);
}

// A small deterministic generator. Not cryptographic. Not thread-safe; use one per thread.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return SplitMix64(state_);
  }
  // Uniform in [lo, hi], both inclusive; requires lo <= hi. The modulo bias is negligible here.
  int Uniform(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  // Uniform in [0, 1).
  double Real() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Real() < p; }
  // Normal(mean, sd) by Box-Muller.
  double Normal(double mean, double sd) {
    const double u1 = 1.0 - Real();  // (0, 1]
    const double u2 = Real();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // A uniformly chosen element; `items` must not be empty.
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<std::size_t>(Uniform(0, static_cast<int>(items.size()) - 1))];
  }
  // Decimal digits, e.g. Digits(4) -> "0472".
  std::string Digits(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>('0' + Uniform(0, 9)));
    return out;
  }

 private:
  std::uint64_t state_;
};

}  // namespace caliper
