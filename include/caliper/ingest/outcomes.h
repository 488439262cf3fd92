#pragma once

// Outcome events (docs/workflow.md, "Ground truth that arrives later") from a CSV file: the
// evidence that confirms or refutes labels after the fact (a biopsy result, a follow-up).
//
//   item_id,patient_key,evidence_type,class,value,result,time
//   itm_...,,biopsy,malignancy,,confirms,2026-03-01T00:00:00Z
//   ,pt-8f2c...,pathology_report,grade,3,confirms,2026-03-02T10:00:00Z
//
// The header names these columns in any order (value may be left out). Each row names an item
// or a pseudonymous patient key (exactly one), the evidence type, the class, optionally a value
// of the class (a grade or code), the result (confirms | refutes) and the time (RFC 3339).

#include <cstddef>
#include <istream>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/types.h"

namespace caliper::ingest {

struct OutcomeRecord {
  std::size_t line = 0;  // the line the record starts on
  core::Outcome outcome;  // subject, evidence, class, value, result and time filled
  Status status;          // why the record was refused (then `outcome` is partial)
};

// One record per data row, in order. Fails as a whole (kInvalidArgument) only when the header
// lacks a column or the file has no header; a bad row is a record with a status.
Result<std::vector<OutcomeRecord>> ReadOutcomesCsv(std::istream& in);

}  // namespace caliper::ingest
