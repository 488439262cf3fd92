#pragma once

// A DICOM-built volume as NIfTI: the bytes the viewer loads (volume.nii.gz) and the geometry an
// exported mask must carry. Voxel data keep DICOM's order (i = column, j = row, k = slice
// ascending along the normal); the affine says where they are in RAS (docs/imaging.md).

#include <cstdint>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/dicom/volume.h"
#include "caliper/ingest/nifti_io.h"

namespace caliper::ingest {

// dims, and the RAS affine of volume.lps as sform (code 1, scanner anatomical); qform too
// unless the affine is sheared (gantry tilt).
NiftiGeometry VolumeNiftiGeometry(const dicom::Volume& volume);

// The volume as NIfTI-1 bytes (.nii.gz when `gzip`): int16 when every value is an integer in
// -32768..32767 (CT in HU), float32 otherwise. Errors: kInvalidArgument for an empty volume.
Result<std::vector<std::uint8_t>> VolumeToNifti(const dicom::Volume& volume, bool gzip = true);

}  // namespace caliper::ingest
