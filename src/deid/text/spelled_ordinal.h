#pragma once

#include <array>
#include <string_view>

// Days of the month written as ordinal words ("third", "twenty-first"), shared by the detector
// ("the third of march") and the date surrogates, which write a shifted day the same way.
namespace caliper::deid::text {

inline constexpr std::array<std::string_view, 31> kSpelledOrdinals = {
    "first",        "second",        "third",        "fourth",       "fifth",       "sixth",
    "seventh",      "eighth",        "ninth",        "tenth",        "eleventh",    "twelfth",
    "thirteenth",   "fourteenth",    "fifteenth",    "sixteenth",    "seventeenth", "eighteenth",
    "nineteenth",   "twentieth",     "twenty-first", "twenty-second", "twenty-third", "twenty-fourth",
    "twenty-fifth", "twenty-sixth",  "twenty-seventh", "twenty-eighth", "twenty-ninth", "thirtieth",
    "thirty-first"};

// The day (1-31) of a lower-case ordinal word, or of "twenty"/"thirty" and one (`units`, "first"
// to "ninth"); 0 when it is none.
inline int SpelledOrdinalDay(std::string_view lower, std::string_view units = {}) {
  if (!units.empty()) {
    const int tens = lower == "twenty" ? 20 : lower == "thirty" ? 30 : 0;
    if (tens == 0) return 0;
    for (int u = 1; u <= 9; ++u) {
      if (kSpelledOrdinals[static_cast<std::size_t>(u - 1)] == units) return tens + u <= 31 ? tens + u : 0;
    }
    return 0;
  }
  for (std::size_t d = 0; d < kSpelledOrdinals.size(); ++d) {
    if (kSpelledOrdinals[d] == lower) return static_cast<int>(d) + 1;
  }
  return 0;
}

}  // namespace caliper::deid::text
