#pragma once

// Reading lab results from files and normalising their units (docs/labs.md). Shapes read:
//   CSV, Caliper columns: patient, time, loinc, value, unit, ref_low, ref_high (or
//        reference_range "3.5-5.1"), name; synonyms patient_id, collected_at, code, test_name,
//        range_low, range_high are accepted (header names are case-insensitive);
//   CSV, OMOP CDM 5.4 MEASUREMENT: person_id, measurement_datetime / measurement_date,
//        measurement_source_value (the LOINC code), value_as_number, value_source_value,
//        unit_source_value, range_low, range_high;
//   JSON: a FHIR R4 Bundle (or one Observation, or an array of them) — Observations of category
//        laboratory with a LOINC coding, effectiveDateTime (or effectivePeriod.start, or issued),
//        valueQuantity or valueString, referenceRange[0]; or an array of flat objects with the
//        Caliper column names.
// The Caliper CSV and flat objects may also carry the patient's cohort attributes (columns or
// fields sex, age_band, race, ethnicity, site, care_setting): LabRecord::cohort.
// The readers only parse and check: de-identification (pseudonymous patient, shifted times)
// and storage are in app (App::IngestLabs).

#include <cstddef>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/clock.h"
#include "caliper/common/status.h"

namespace caliper::ingest {

enum class LabFormat { kCsv, kJson };

// "csv", "json" (kInvalidArgument otherwise); by extension .csv, .json, .ndjson is not read.
Result<LabFormat> ParseLabFormat(std::string_view name);
Result<LabFormat> LabFormatOfPath(std::string_view path);

// One lab result as read. When `status` is not ok the record is skipped with that reason.
struct LabRecord {
  std::size_t number = 0;  // 1-based record number within the file
  std::size_t line = 0;    // CSV: the line it starts on; JSON: 0
  std::string patient;     // the source patient identifier (may be PHI: never stored as is)
  TimeMicros time = 0;     // when it was collected (UTC)
  std::string loinc;       // checked: format and mod-10 check digit
  std::string name;        // test name when the source gives one
  std::optional<double> value;  // numeric result
  std::string value_text;       // a result that is not a number ("positive", "<0.5")
  std::string unit;             // as given (UCUM or common spelling)
  std::optional<double> ref_low, ref_high;
  // The patient's cohort attributes the record gives (see the top), by name; empty ones are left
  // out, each is at most 64 bytes. May hold PHI: App::IngestLabs de-identifies them.
  std::map<std::string, std::string> cohort;
  Status status;
};

// Reads every record of `in` (at most `max_bytes`; kPayloadTooLarge beyond). Fails as a whole
// only when the file cannot be read at all (not JSON, no usable CSV header); otherwise bad
// records come back with their status set.
Result<std::vector<LabRecord>> ReadLabs(LabFormat format, std::istream& in, std::size_t max_bytes);

// A value in its analyte's canonical unit (docs/labs.md, "Unit normalisation").
struct NormalisedValue {
  double value = 0;
  std::string unit;     // canonical UCUM unit of the analyte ("mg/dL", "mmol/L", ...)
  std::string analyte;  // "creatinine", "glucose", ... ("" for a unit-only conversion)
};

// The UCUM spelling of a common unit ("mg/dl" -> "mg/dL", "umol/l" and "µmol/L" ->
// "umol/L", "mEq/L" kept, "K/uL" -> "10*3/uL"); "" when the unit is not one we know.
std::string CanonicalUnit(std::string_view unit);

// Converts `value` given in `unit` for the test `loinc` to the analyte's canonical unit:
// analyte-independent scaling within a dimension (mass, amount of substance, count per volume)
// and, for analytes in the table, mass <-> amount with the analyte's molar mass (and valence
// for mEq). nullopt when the unit is unknown or the conversion needs a molar mass the table
// does not have. A unit already canonical returns the value unchanged.
std::optional<NormalisedValue> NormaliseLabValue(std::string_view loinc, double value, std::string_view unit);

}  // namespace caliper::ingest
