#pragma once

// Readers' and final masks of imaging items in a snapshot: NIfTI label maps, STAPLE probability
// maps and DICOM-SEG (docs/export.md, "Masks"). Internal to the exports part.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caliper/exports/snapshot.h"

namespace caliper::exports {

// Adds, for the items (in the order given, sorted by id) with a volume and any mask:
//   masks/nifti/<item>/<reader>.nii.gz and final.nii.gz   uint8 label maps on the volume's grid
//   masks/dicom-seg/<item>/<reader>.dcm and final.dcm     DICOM-SEG, for items from DICOM
//   masks/staple/<item>.nii.gz and <item>.json             with two or more readers' masks
//   masks/index.csv                                        one row per mask, with what its labels stand for
// and returns the manifest's "masks" summary (null when no item has a mask). Deterministic: the
// DICOM UIDs derive from the dataset id, item and mask, the DICOM dates from created_at.
// Errors: kIntegrity for a stored mask that does not decode or is not on the volume's grid;
// kInvalidArgument when created_at is not RFC 3339 and a DICOM-SEG is to be written; errors of
// the NIfTI and DICOM-SEG writers.
Result<nlohmann::ordered_json> AddMaskFiles(const SnapshotInput& input, const std::vector<const SnapshotItem*>& items,
                                            const std::map<std::string, std::string>& split_of, Snapshot& snapshot);

}  // namespace caliper::exports
