#pragma once

// The kinds of protected health information Caliper detects, reports and generates: the HIPAA
// Safe Harbor identifiers (45 CFR 164.514(b)(2)) as grouped by the i2b2 2014
// de-identification categories. One list for the de-identifier, its CLI contract, the
// synthetic-data generator and the evaluations.

#include <optional>
#include <string>
#include <string_view>

namespace caliper::core {

enum class PhiType {
  kName,
  kDate,
  kAge,
  kPhone,
  kFax,
  kEmail,
  kSsn,
  kMrn,
  kAccount,
  kLicense,
  kVehicle,
  kDevice,
  kUrl,
  kIp,
  kLocation,
  kZip,
  kId,
  kOther,
};
inline constexpr int kPhiTypeCount = 18;

// "NAME", "DATE", ... (the upper-case names of files and APIs) and back (nullopt for any other
// text).
std::string_view PhiTypeName(PhiType type);
std::optional<PhiType> ParsePhiType(std::string_view name);

// The cohort age band of an age in whole years: 5-year bands ("65-69"), 90 and over grouped
// as "90+" (Safe Harbor, 45 CFR 164.514(b)(2)(i)(C)); "" for a negative age.
std::string AgeBand(int years);

}  // namespace caliper::core
