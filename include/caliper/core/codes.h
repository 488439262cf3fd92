#pragma once

#include <string_view>

#include "caliper/common/status.h"

// Validation of terminology codes bound to schema classes and lab results. Pure functions;
// each returns Ok or kInvalidArgument with a message saying what is wrong with the code.
// Format and check digits only: whether the code exists in the terminology's current release
// needs the release files, which Caliper does not ship.
namespace caliper::core {

// LOINC: 1-7 digits, '-', one mod-10 check digit (LOINC Users' Guide, appendix "Calculating
// Mod 10 Check Digits"; the algorithm is Luhn's). Example: "718-7".
Status ValidateLoinc(std::string_view code);

// SNOMED CT identifier of a concept: 6-18 digits without a leading zero, the last a Verhoeff
// check digit, the two before it the partition identifier "00" (short) or "10" (long format)
// (SNOMED CT Technical Implementation Guide, 6.1 "SCTID"). Example: "22298006".
Status ValidateSnomedConceptId(std::string_view code);

// ICD-10-CM code format: a letter, a digit, a letter or digit, then optionally '.' and 1-4
// letters or digits (CDC/CMS ICD-10-CM Official Guidelines, I.A). Example: "S72.001A".
Status ValidateIcd10Cm(std::string_view code);

// The check for `system` ("SNOMED CT", "ICD-10-CM", "LOINC", "RadLex"); kInvalidArgument for
// another system.
Status ValidateCode(std::string_view system, std::string_view code);

// RadLex term identifier: "RID" followed by 1-7 digits, no leading zero (RSNA RadLex).
Status ValidateRadlexId(std::string_view code);

}  // namespace caliper::core
