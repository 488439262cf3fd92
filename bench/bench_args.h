#pragma once

// Command-line numbers of the bench generators (caliper_ct_phantom, caliper_us_phantom).

#include <cstdlib>
#include <optional>

namespace caliper::bench {

// `s` as a whole number in [low, high], or nothing ("12x", "-1", "" and "1e3" are nothing).
inline std::optional<unsigned long long> Number(const char* s, unsigned long long low, unsigned long long high) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end != '\0' || v < low || v > high) return std::nullopt;
  return v;
}

}  // namespace caliper::bench
