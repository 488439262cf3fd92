#pragma once

#include <string>

namespace caliper::synth {

// A proleptic Gregorian date.
struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// Days since 1970-01-01 (negative before), and back (Hinnant, "chrono-Compatible Low-Level
// Date Algorithms").
long long DaysFromCivil(const CivilDate& d);
CivilDate CivilFromDays(long long days);

// Whole years from `birth` to `on` (0 if `on` is earlier).
int AgeInYears(const CivilDate& birth, const CivilDate& on);

std::string FormatIso(const CivilDate& d);    // "2025-03-12"
std::string FormatUs(const CivilDate& d);     // "03/12/2025"
std::string FormatLong(const CivilDate& d);   // "March 12, 2025"
std::string FormatDicom(const CivilDate& d);  // "20250312"
// Parses "YYYY-MM-DD"; the input must have that shape (it comes from our own generators).
CivilDate ParseIso(const std::string& text);

}  // namespace caliper::synth
