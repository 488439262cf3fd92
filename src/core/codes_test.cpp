#include "caliper/core/codes.h"

#include <gtest/gtest.h>

namespace caliper::core {
namespace {

// Valid LOINC codes: the common laboratory codes of the LOINC table (loinc.org), also used by
// our synthetic labs: hemoglobin, creatinine, glucose, sodium, potassium, platelets, WBC.
TEST(Codes, LoincValid) {
  for (const char* code : {"718-7", "2160-0", "2345-7", "2951-2", "2823-3", "777-3", "6690-2",
                           "4548-4", "1-8"}) {
    EXPECT_TRUE(ValidateLoinc(code).ok()) << code;
  }
}

TEST(Codes, LoincInvalid) {
  for (const char* code : {"718-8", "2160-1", "7187", "-7", "718-", "12345678-9", "71a-7",
                           "718-77", ""}) {
    EXPECT_EQ(ValidateLoinc(code).code(), ErrorCode::kInvalidArgument) << code;
  }
  EXPECT_NE(ValidateLoinc("718-8").message().find("should be 7"), std::string::npos);
}

// Valid concept ids from the SNOMED CT International release (browser.ihtsdotools.org):
// myocardial infarction, diabetes mellitus, hypertensive disorder, asthma, clinical finding,
// body structure, SNOMED CT root concept.
TEST(Codes, SnomedValid) {
  for (const char* code : {"22298006", "73211009", "38341003", "195967001", "404684003",
                           "123037004", "138875005"}) {
    EXPECT_TRUE(ValidateSnomedConceptId(code).ok()) << code << " " << ValidateSnomedConceptId(code).ToString();
  }
}

TEST(Codes, SnomedInvalid) {
  EXPECT_NE(ValidateSnomedConceptId("22298007").message().find("Verhoeff"), std::string::npos);
  // A description id (partition 01) and a relationship id (02) are not concepts.
  EXPECT_NE(ValidateSnomedConceptId("37436014").message().find("partition"), std::string::npos);
  EXPECT_NE(ValidateSnomedConceptId("100022").message().find("partition"), std::string::npos);
  for (const char* code : {"12345", "022298006", "2229800x", "1234567890123456789", ""}) {
    EXPECT_EQ(ValidateSnomedConceptId(code).code(), ErrorCode::kInvalidArgument) << code;
  }
}

// ICD-10-CM codes from the CMS FY2024 tabular list: cholera, type 2 diabetes without
// complications, NSTEMI, unspecified asthma, femoral neck fracture (initial encounter),
// COVID-19, and C4A (Merkel cell carcinoma: the third character may be a letter).
TEST(Codes, Icd10CmValid) {
  for (const char* code : {"A00", "E11.9", "I21.4", "J45.909", "S72.001A", "U07.1", "C4A.9"}) {
    EXPECT_TRUE(ValidateIcd10Cm(code).ok()) << code;
  }
}

TEST(Codes, Icd10CmInvalid) {
  for (const char* code : {"11.9", "E1", "E11.", "E11.12345", "e11.9", "EE1.9",
                           "E11-9", ""}) {
    EXPECT_EQ(ValidateIcd10Cm(code).code(), ErrorCode::kInvalidArgument) << code;
  }
}

// RadLex ids are format-checked only; these have the published shape (RSNA RadLex browser).
TEST(Codes, RadlexFormat) {
  for (const char* code : {"RID1", "RID1301", "RID39527"}) EXPECT_TRUE(ValidateRadlexId(code).ok()) << code;
  for (const char* code : {"RID", "RID0", "rid1301", "RID13a", "R1301", "RID12345678"}) {
    EXPECT_EQ(ValidateRadlexId(code).code(), ErrorCode::kInvalidArgument) << code;
  }
}

}  // namespace
}  // namespace caliper::core
