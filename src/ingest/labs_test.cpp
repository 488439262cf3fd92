#include "caliper/ingest/labs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "caliper/common/sample_data.h"
#include "caliper/synth/synthetic.h"

namespace caliper::ingest {
namespace {

std::vector<LabRecord> Read(LabFormat format, const std::string& data) {
  std::istringstream in(data);
  auto records = ReadLabs(format, in, 1 << 20);
  EXPECT_TRUE(records.ok()) << records.status().ToString();
  return records.ok() ? *records : std::vector<LabRecord>{};
}

// ---- unit normalisation (docs/labs.md) ------------------------------------------------------------

TEST(LabUnits, SpellingsBecomeUcum) {
  EXPECT_EQ(CanonicalUnit("mg/dl"), "mg/dL");
  EXPECT_EQ(CanonicalUnit("\xC2\xB5mol/L"), "umol/L");  // micro sign
  EXPECT_EQ(CanonicalUnit("\xCE\xBCmol/l"), "umol/L");  // Greek mu
  EXPECT_EQ(CanonicalUnit("mEq/L"), "meq/L");
  EXPECT_EQ(CanonicalUnit("K/uL"), "10*3/uL");
  EXPECT_EQ(CanonicalUnit("10^9/L"), "10*3/uL");
  EXPECT_EQ(CanonicalUnit("mL/min/1.73 m2"), "mL/min/{1.73_m2}");
  EXPECT_EQ(CanonicalUnit("furlongs"), "");
}

TEST(LabUnits, CreatinineMicromolesToMilligrams) {
  // 1 mg/dL = 10 mg/L / 113.12 g/mol = 88.40 umol/L (the factor 88.4 of SI conversion tables).
  auto v = NormaliseLabValue("14682-9", 88.4, "umol/L");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->unit, "mg/dL");
  EXPECT_EQ(v->analyte, "creatinine");
  EXPECT_NEAR(v->value, 1.0, 1e-3);
  EXPECT_NEAR(NormaliseLabValue("2160-0", 1.2, "mg/dl")->value, 1.2, 1e-12);
  EXPECT_NEAR(NormaliseLabValue("2160-0", 12, "mg/L")->value, 1.2, 1e-12);
}

TEST(LabUnits, GlucoseUreaCholesterolAndCalcium) {
  EXPECT_NEAR(NormaliseLabValue("15074-8", 5.5, "mmol/L")->value, 99.09, 0.01);  // x 18.016
  EXPECT_NEAR(NormaliseLabValue("3094-0", 7.1, "mmol/L")->value, 19.89, 0.01);   // x 2.801
  EXPECT_NEAR(NormaliseLabValue("2093-3", 5.17, "mmol/L")->value, 199.9, 0.1);   // x 38.67
  EXPECT_NEAR(NormaliseLabValue("17861-6", 2.5, "mmol/L")->value, 10.02, 0.01);  // x 4.008
  EXPECT_NEAR(NormaliseLabValue("17861-6", 5.0, "mEq/L")->value, 10.02, 0.01);   // divalent
  EXPECT_NEAR(NormaliseLabValue("1975-2", 17.1, "umol/L")->value, 1.0, 0.001);   // / 17.1
  EXPECT_NEAR(NormaliseLabValue("2571-8", 1.0, "mmol/L")->value, 88.57, 0.01);   // x 88.57
  EXPECT_NEAR(NormaliseLabValue("3084-1", 59.48, "umol/L")->value, 1.0, 0.001);  // / 59.48
  EXPECT_NEAR(NormaliseLabValue("19123-9", 0.4114, "mmol/L")->value, 1.0, 0.001);  // / 0.4114
}

TEST(LabUnits, ElectrolytesCountsAndUnconvertible) {
  EXPECT_NEAR(NormaliseLabValue("2823-3", 4.1, "mEq/L")->value, 4.1, 1e-12);
  EXPECT_EQ(NormaliseLabValue("2823-3", 4.1, "mEq/L")->unit, "mmol/L");
  EXPECT_NEAR(NormaliseLabValue("718-7", 135, "g/L")->value, 13.5, 1e-12);
  EXPECT_NEAR(NormaliseLabValue("6690-2", 7.2, "10*9/L")->value, 7.2, 1e-12);
  EXPECT_NEAR(NormaliseLabValue("6690-2", 7200, "/uL")->value, 7.2, 1e-12);
  // Albumin has no molar mass in the table: g/dL <-> umol/L is refused, g/L works.
  EXPECT_FALSE(NormaliseLabValue("1751-7", 600, "umol/L").has_value());
  EXPECT_NEAR(NormaliseLabValue("1751-7", 40, "g/L")->value, 4.0, 1e-12);
  // An analyte outside the table keeps its value; only the spelling is canonical.
  auto other = NormaliseLabValue("4548-4", 6.1, "%");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->value, 6.1);
  EXPECT_EQ(other->analyte, "");
  EXPECT_FALSE(NormaliseLabValue("2160-0", 1, "bananas").has_value());
  EXPECT_FALSE(NormaliseLabValue("2160-0", 1, "U/L").has_value());  // not a concentration
}

// ---- readers ----------------------------------------------------------------------------------------

TEST(LabReaderCsv, CaliperColumnsRangesAndPerRecordErrors) {
  const std::string csv =
      "patient,time,loinc,name,value,unit,reference_range\n"
      "P1,2024-03-01T08:00:00Z,2160-0,Creatinine,1.4,mg/dL,0.6-1.3\n"
      "P1,2024-03-02,2160-1,Creatinine,1.9,mg/dL,0.6-1.3\n"
      "P1,yesterday,2160-0,Creatinine,1.9,mg/dL,\n"
      ",2024-03-02,2160-0,Creatinine,1.9,mg/dL,\n"
      "P2,2024-03-02 10:30:00,5195-3,HBsAg,negative,,\n"
      "P2,2024-03-02,33914-3,eGFR,58,mL/min/{1.73_m2},>60\n"
      "P2,2024-03-02,2160-0,Creatinine,,mg/dL,\n";
  auto r = Read(LabFormat::kCsv, csv);
  ASSERT_EQ(r.size(), 7u);
  ASSERT_TRUE(r[0].status.ok()) << r[0].status.ToString();
  EXPECT_EQ(r[0].patient, "P1");
  EXPECT_EQ(r[0].loinc, "2160-0");
  EXPECT_EQ(r[0].value, 1.4);
  EXPECT_EQ(r[0].ref_low, 0.6);
  EXPECT_EQ(r[0].ref_high, 1.3);
  EXPECT_EQ(FormatRfc3339(r[0].time), "2024-03-01T08:00:00.000000Z");
  EXPECT_EQ(r[0].line, 2u);
  EXPECT_NE(r[1].status.message().find("check digit"), std::string::npos) << r[1].status.ToString();
  EXPECT_NE(r[2].status.message().find("'yesterday' is not RFC 3339"), std::string::npos);
  EXPECT_NE(r[3].status.message().find("no patient"), std::string::npos);
  ASSERT_TRUE(r[4].status.ok()) << r[4].status.ToString();
  EXPECT_FALSE(r[4].value.has_value());
  EXPECT_EQ(r[4].value_text, "negative");
  EXPECT_EQ(FormatRfc3339(r[4].time), "2024-03-02T10:30:00.000000Z");
  EXPECT_EQ(r[5].ref_low, 60);
  EXPECT_FALSE(r[5].ref_high.has_value());
  EXPECT_NE(r[6].status.message().find("no value"), std::string::npos);
}

TEST(LabReaderCsv, TheSyntheticGeneratorsCsvIsRead) {
  auto r = Read(LabFormat::kCsv, synth::MakeLabsCsv(2, 7));
  ASSERT_EQ(r.size(), 2u * 3 * 8);
  for (const auto& rec : r) {
    EXPECT_TRUE(rec.status.ok()) << rec.status.ToString();
    EXPECT_TRUE(rec.value.has_value());
    EXPECT_TRUE(rec.ref_low.has_value() && rec.ref_high.has_value());
  }
}

TEST(LabReaderCsv, CohortColumnsAreThePatientsAttributes) {
  const std::string csv =
      "patient,time,loinc,value,Sex,age_band,site,care_setting,ward\n"
      "P1,2024-03-01,2160-0,1.4,F,65-69,site-1,,4B\n"
      "P2,2024-03-01,2160-0,1.1,,,,inpatient,4C\n"
      "P3,2024-03-01,2160-0,1.1,M," + std::string(65, 'x') + ",,,\n";
  auto r = Read(LabFormat::kCsv, csv);
  ASSERT_EQ(r.size(), 3u);
  ASSERT_TRUE(r[0].status.ok()) << r[0].status.ToString();
  // Header names in any case; empty cells and columns that are not cohort attributes left out.
  EXPECT_EQ(r[0].cohort, (std::map<std::string, std::string>{{"sex", "F"}, {"age_band", "65-69"}, {"site", "site-1"}}));
  EXPECT_EQ(r[1].cohort, (std::map<std::string, std::string>{{"care_setting", "inpatient"}}));
  EXPECT_NE(r[2].status.message().find("the cohort attribute age_band is over 64 bytes"), std::string::npos)
      << r[2].status.ToString();
  // A flat JSON object's fields of the same names.
  auto j = Read(LabFormat::kJson,
                R"([{"patient":"P1","time":"2024-03-01","loinc":"2160-0","value":1.4,"sex":"F","race":" Asian ","ward":"4B"}])");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].cohort, (std::map<std::string, std::string>{{"sex", "F"}, {"race", "Asian"}}));
}

TEST(LabReaderCsv, AHeaderWithoutTheNeededColumnsIsAnError) {
  std::istringstream in("who,when,what\n1,2,3\n");
  auto r = ReadLabs(LabFormat::kCsv, in, 1 << 20);
  EXPECT_NE(r.status().message().find("lacks the columns: patient time loinc value"), std::string::npos)
      << r.status().ToString();
}

TEST(LabReaderJson, FhirObservationsAndFlatObjects) {
  const std::string bundle = R"({"resourceType":"Bundle","entry":[
    {"resource":{"resourceType":"Patient","id":"p"}},
    {"resource":{"resourceType":"Observation","category":[{"coding":[{"code":"laboratory"}]}],
      "code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose"}]},
      "subject":{"reference":"urn:uuid:abc"},"effectiveDateTime":"2011-07-11T16:42:48+02:00",
      "valueQuantity":{"value":77.4,"unit":"mg/dL","code":"mg/dL"},
      "referenceRange":[{"low":{"value":70},"high":{"value":99}}]}},
    {"resource":{"resourceType":"Observation","category":[{"coding":[{"code":"vital-signs"}]}],
      "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"urn:uuid:abc"},
      "effectiveDateTime":"2011-07-11T16:42:48Z","valueQuantity":{"value":120,"code":"mm[Hg]"}}},
    {"resource":{"resourceType":"Observation","category":[{"coding":[{"code":"laboratory"}]}],
      "code":{"coding":[{"system":"http://snomed.info/sct","code":"1234"}]},"subject":{"reference":"urn:uuid:abc"},
      "effectiveDateTime":"2011-07-11T16:42:48Z","valueQuantity":{"value":1}}}]})";
  auto r = Read(LabFormat::kJson, bundle);
  ASSERT_EQ(r.size(), 2u);  // the vital sign and the Patient are not lab results
  ASSERT_TRUE(r[0].status.ok()) << r[0].status.ToString();
  EXPECT_EQ(r[0].patient, "urn:uuid:abc");
  EXPECT_EQ(r[0].loinc, "2339-0");
  EXPECT_EQ(r[0].name, "Glucose");
  EXPECT_EQ(r[0].value, 77.4);
  EXPECT_EQ(r[0].unit, "mg/dL");
  EXPECT_EQ(FormatRfc3339(r[0].time), "2011-07-11T14:42:48.000000Z");
  EXPECT_EQ(r[0].ref_high, 99);
  EXPECT_NE(r[1].status.message().find("no LOINC code"), std::string::npos);

  auto flat = Read(LabFormat::kJson,
                   R"([{"patient":"P","time":"2024-01-01","loinc":"2823-3","value":4.1,"unit":"mEq/L"}, 5])");
  ASSERT_EQ(flat.size(), 2u);
  EXPECT_TRUE(flat[0].status.ok()) << flat[0].status.ToString();
  EXPECT_FALSE(flat[1].status.ok());
  std::istringstream bad("{nope");
  EXPECT_EQ(ReadLabs(LabFormat::kJson, bad, 1 << 20).status().code(), ErrorCode::kInvalidArgument);
  std::istringstream big(std::string(2000, ' '));
  EXPECT_EQ(ReadLabs(LabFormat::kJson, big, 1000).status().code(), ErrorCode::kPayloadTooLarge);
}

// The public Synthea samples in both shapes (docs/labs.md): every lab result is read and
// checked, and most are normalised.
TEST(LabReaderSamples, OmopMeasurementAndFhirBundles) {
  auto omop = SampleDataFile("labs/omop-synthea27nj/MEASUREMENT.csv");
  if (!omop) {
    if (SampleDataRequired()) FAIL() << "labs/omop-synthea27nj/MEASUREMENT.csv is missing from CALIPER_SAMPLE_DATA";
    GTEST_SKIP() << "set CALIPER_SAMPLE_DATA to the shared sample data to run this";
  }
  std::ifstream in(*omop, std::ios::binary);
  auto records = ReadLabs(LabFormat::kCsv, in, 64 << 20);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_EQ(records->size(), 10040u);
  std::size_t ok = 0, normalised = 0;
  for (const auto& r : *records) {
    if (!r.status.ok()) {
      // The refused rows are procedures coded in SNOMED CT, with no value.
      EXPECT_NE(r.status.message().find("LOINC"), std::string::npos) << r.loinc << ": " << r.status.ToString();
      continue;
    }
    ++ok;
    if (r.value && NormaliseLabValue(r.loinc, *r.value, r.unit)) ++normalised;
  }
  EXPECT_GT(ok, 9000u);  // 9,155 measurements with a LOINC code and a value
  EXPECT_GT(normalised, ok / 2);

  for (const char* name : {"Ammie_Huels_ea186cb3-ccb1-4dfc-a92e-dc9286aaa2ce.json",
                           "Barry_Wolf_f0c0c377-be9c-4ca2-97c0-7cef574bdb45.json"}) {
    auto path = SampleDataFile(std::string("labs/fhir-r4-synthea/") + name);
    ASSERT_TRUE(path) << name << " is missing from CALIPER_SAMPLE_DATA";
    std::ifstream bundle(*path, std::ios::binary);
    auto labs = ReadLabs(LabFormat::kJson, bundle, 64 << 20);
    ASSERT_TRUE(labs.ok()) << labs.status().ToString();
    EXPECT_GE(labs->size(), 130u) << name;
    for (const auto& r : *labs) EXPECT_TRUE(r.status.ok()) << name << ": " << r.status.ToString();
  }
}

}  // namespace
}  // namespace caliper::ingest
