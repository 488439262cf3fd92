#include "caliper/core/codes.h"

#include <string>

namespace caliper::core {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpperAlnum(char c) { return IsDigit(c) || (c >= 'A' && c <= 'Z'); }
bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return !s.empty();
}

Status Bad(std::string_view system, std::string_view code, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument,
               std::string(system) + " code \"" + std::string(code) + "\": " + std::string(why));
}

// Verhoeff's dihedral group D5 tables (Verhoeff 1969), as used by SNOMED CT.
constexpr int kD[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
    {3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
    {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
constexpr int kP[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
    {8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};

// True when the Verhoeff checksum over all digits (check digit last) is 0.
bool VerhoeffValid(std::string_view digits) {
  int c = 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    c = kD[c][kP[i % 8][digits[digits.size() - 1 - i] - '0']];
  }
  return c == 0;
}

}  // namespace

Status ValidateLoinc(std::string_view code) {
  const std::size_t dash = code.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 7 || dash + 2 != code.size() ||
      !AllDigits(code.substr(0, dash)) || !IsDigit(code.back())) {
    return Bad("LOINC", code, "expected 1-7 digits, '-', one check digit (e.g. 718-7)");
  }
  // Mod 10 (Luhn): from the right, double every other digit starting with the last one.
  int sum = 0;
  bool twice = true;
  for (std::size_t i = dash; i-- > 0; twice = !twice) {
    int d = code[i] - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  const int check = (10 - sum % 10) % 10;
  if (check != code.back() - '0') {
    return Bad("LOINC", code, "check digit should be " + std::to_string(check));
  }
  return Status::Ok();
}

Status ValidateSnomedConceptId(std::string_view code) {
  if (code.size() < 6 || code.size() > 18 || !AllDigits(code) || code[0] == '0') {
    return Bad("SNOMED CT", code, "expected 6-18 digits without a leading zero");
  }
  const std::string_view partition = code.substr(code.size() - 3, 2);
  if (partition != "00" && partition != "10") {
    return Bad("SNOMED CT", code,
               "partition identifier " + std::string(partition) + " is not a concept's (00 or 10)");
  }
  if (!VerhoeffValid(code)) return Bad("SNOMED CT", code, "Verhoeff check digit does not match");
  return Status::Ok();
}

Status ValidateIcd10Cm(std::string_view code) {
  const bool head = code.size() >= 3 && code[0] >= 'A' && code[0] <= 'Z' && IsDigit(code[1]) &&
                    IsUpperAlnum(code[2]);
  bool ok = head && (code.size() == 3 || (code[3] == '.' && code.size() >= 5 && code.size() <= 8));
  for (std::size_t i = 4; ok && i < code.size(); ++i) ok = IsUpperAlnum(code[i]);
  if (!ok) {
    return Bad("ICD-10-CM", code,
               "expected a letter, a digit, a letter or digit, then optionally '.' and 1-4 "
               "letters or digits (e.g. E11.9, S72.001A)");
  }
  return Status::Ok();
}

Status ValidateRadlexId(std::string_view code) {
  if (code.size() < 4 || code.size() > 10 || code.substr(0, 3) != "RID" ||
      !AllDigits(code.substr(3)) || code[3] == '0') {
    return Bad("RadLex", code, "expected RID followed by 1-7 digits (e.g. RID1301)");
  }
  return Status::Ok();
}

Status ValidateCode(std::string_view system, std::string_view code) {
  if (system == "SNOMED CT") return ValidateSnomedConceptId(code);
  if (system == "ICD-10-CM") return ValidateIcd10Cm(code);
  if (system == "LOINC") return ValidateLoinc(code);
  if (system == "RadLex") return ValidateRadlexId(code);
  return Error(ErrorCode::kInvalidArgument, "'" + std::string(system) +
                                                "' is not a terminology Caliper checks (SNOMED CT, ICD-10-CM, LOINC, RadLex)");
}

}  // namespace caliper::core
