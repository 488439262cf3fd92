#pragma once

// Cohort metadata for a NIfTI volume from its BIDS-style JSON sidecar (the ".json" beside
// "x.nii" / "x.nii.gz", as dcm2niix writes it). Only the keys below are read, and coarsened, so
// no identifier in the sidecar reaches the item:
//   Modality -> modality; Manufacturer -> manufacturer; ManufacturersModelName -> model;
//   MagneticFieldStrength -> field_strength_t (1 decimal); SliceThickness -> slice_thickness_mm
//   (1 decimal); KVP -> kvp (integer); BodyPart or
//   BodyPartExamined -> body_part (upper case); SeriesDescription -> series_description
//   (upper case, only A-Z 0-9 space . _ - +, at most 64 characters); AcquisitionDateTime,
//   AcquisitionDate or StudyDate -> acquisition_year; PatientSex -> sex (M, F or O);
//   PatientAge ("066Y" or a number of years) -> age_band ("65-69"; "90+" from 90 on).

#include <optional>
#include <string>
#include <string_view>

#include "caliper/common/status.h"

namespace caliper::ingest {

// The cohort JSON object (snake_case keys above; absent keys omitted; "{}" when none) for the
// sidecar text. Errors: kMalformedJson when it is not a JSON object.
Result<std::string> CohortFromBidsSidecar(std::string_view json_text);

// "dir/x.nii.gz" or "dir/x.nii" -> "dir/x.json".
std::string BidsSidecarPath(const std::string& nifti_path);

// The cohort JSON from the sidecar of `nifti_path`, or nullopt when it has none. Errors: kIo
// when it exists but cannot be read; kMalformedJson as above.
Result<std::optional<std::string>> ReadCohortForNifti(const std::string& nifti_path);

}  // namespace caliper::ingest
