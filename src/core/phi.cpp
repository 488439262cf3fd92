#include "caliper/core/phi.h"

#include <array>

namespace caliper::core {
namespace {

constexpr std::array<std::string_view, kPhiTypeCount> kNames = {
    "NAME",    "DATE",    "AGE",    "PHONE", "FAX", "EMAIL",    "SSN", "MRN", "ACCOUNT",
    "LICENSE", "VEHICLE", "DEVICE", "URL",   "IP",  "LOCATION", "ZIP", "ID",  "OTHER"};
static_assert(kNames.size() == static_cast<std::size_t>(PhiType::kOther) + 1);

}  // namespace

std::string_view PhiTypeName(PhiType type) { return kNames[static_cast<std::size_t>(type)]; }

std::optional<PhiType> ParsePhiType(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<PhiType>(i);
  }
  return std::nullopt;
}

std::string AgeBand(int years) {
  if (years < 0) return {};
  if (years >= 90) return "90+";
  const int low = years / 5 * 5;
  return std::to_string(low) + "-" + std::to_string(low + 4);
}

}  // namespace caliper::core
