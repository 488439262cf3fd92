#pragma once

// Helpers the ingest use cases share (imaging.cpp, waveforms.cpp, notes.cpp, labs.cpp). Internal
// to app.

#include <cstddef>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "caliper/common/status.h"
#include "caliper/core/types.h"
#include "caliper/deid/text_deid.h"
#include "caliper/dicom/deid.h"
#include "caliper/storage/store.h"

namespace caliper::app::internal {

// A failure of the store or the disk (the ingest stops), as opposed to a bad input file (the
// file is reported and skipped).
bool IsStoreFailure(const Status& s);

// The de-identification options a project's DICOM settings name (dicom::DeidOptionsFromSpecs).
// kInvalidArgument naming the bad entry, or for more than 1000 entries of a kind.
Result<dicom::DeidOptions> DeidOptionsOf(const core::DicomSettings& settings);

// Checks `settings` (DeidOptionsOf) and rewrites its option names in canonical form.
Status NormaliseDicomSettings(core::DicomSettings& settings);

// The project's DICOM settings in `txn`; the defaults (no option) until first put.
Result<core::DicomSettings> DicomSettingsIn(storage::Transaction& txn, const std::string& project_id);

// The project's DICOM de-identifier: PS3.15 Table E.1-1 with the project's settings, pseudonyms
// under a subkey of the project's de-identification secret (so they do not depend on the
// options: a change of settings keeps every UID and pseudonym).
Result<std::unique_ptr<dicom::DicomDeidentifier>> DeidentifierFor(const std::string& secret,
                                                                  const core::DicomSettings& settings);

// The cohort JSON of an instance, with the keys ingest::CohortFromBidsSidecar uses.
std::string CohortJson(const dicom::CohortMetadata& c);

// The project's text de-identifier for ingest (notes, and the cohort attributes of labs):
// the mode and clinician names of its text settings, surrogates under the project's
// de-identification secret, texts up to `max_text_bytes`.
Result<std::unique_ptr<deid::TextDeidentifier>> TextDeidentifierFor(const core::TextSettings& settings,
                                                                    const std::string& secret,
                                                                    std::size_t max_text_bytes);

// De-identifies every scalar of a metadata value (a note's metadata, a labs item's cohort) as
// text of the patient `patient_key`: strings, and numbers (which may be record numbers), which
// stay numbers when nothing was found in them.
Status DeidentifyMetadata(deid::TextDeidentifier& deid, const std::string& patient_key, nlohmann::json& value);

// The item modality of a DICOM Modality value ("OT" when empty or too long).
std::string ModalityOf(const std::string& modality);

// What a DICOM instance's pseudonymous patient key derives from (App::PatientKeyFor): the
// original Patient ID with its issuer, so one patient's images, notes and labs meet; without a
// Patient ID, the de-identifier's pseudonym (keyed on the study, so unknown patients are not
// merged).
std::string DicomPatientSource(const dicom::PatientLink& p);

}  // namespace caliper::app::internal
