#pragma once

// The checks a label with mask evidence must pass (docs/imaging.md, "Masks"). Internal to app:
// imaging.cpp defines it, App::PinToGuideline (workflow.cpp) applies it to every label.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/disagreement.h"
#include "app/workflow_internal.h"
#include "caliper/core/label_schema.h"
#include "caliper/core/types.h"
#include "caliper/dicom/label_map.h"
#include "caliper/storage/store.h"

namespace caliper::app {

// For evidence kind "mask" (other kinds pass): the item is an imaging item, the class is a
// segmentation class, and evidence.data {"version": n} names one of `owner`'s mask versions on
// the item (PUT /items/{item_id}/mask): the author's own, or the reader's whose label an
// adjudicator chose. kInvalidArgument naming the field otherwise.
Status CheckMaskEvidence(storage::Transaction& txn, const core::Annotation& a, const core::Item& item,
                         const core::LabelClass& cls, const std::string& owner);

// The mask version a label with mask evidence names (checked when it was written); none for
// other evidence.
std::optional<std::int64_t> MaskVersionOf(const core::Annotation& a);

// `author`'s mask version `version` on item `item_id`, its blob read through `read_blob` and
// decoded.
Result<dicom::LabelMap> StoredMask(storage::Transaction& txn, const std::string& item_id, const std::string& author,
                                   std::int64_t version, const internal::BlobReader& read_blob);

// The stored masks that `reading`'s mask evidence names, for the classes `wanted` takes, into
// reading.masks (one per class: the first label's).
Status LoadReadingMasks(storage::Transaction& txn, const std::string& item_id, ReadingLabels& reading,
                        const internal::BlobReader& read_blob, const std::function<bool(const std::string&)>& wanted);

// The grid of a stored label map: its dims and the spacing its affine implies.
quality::Grid GridOf(const dicom::LabelMap& map);

// A stored label map's voxels of one class: 1 where the map holds the class's segment. A map
// put before the guideline had the class has no segment for it: an empty mask.
ClassMask ClassMaskOf(const dicom::LabelMap& map, const std::string& label_class);

// Whether the item holds a volume (an imaging item with NIfTI content).
bool HasVolume(const core::Item& item);

// The voxel values of a stored volume (`nifti`: the item's content, decrypted), i fastest, on
// the grid of the masks put on it. Scaled as stored: a CT volume holds HU (the DICOM rescale
// and NIfTI scl_slope/scl_inter are applied at ingest). kIntegrity unless it is one 3D volume.
Result<std::vector<float>> VolumeValues(std::string_view nifti);

}  // namespace caliper::app
