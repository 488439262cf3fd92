#pragma once

// The checks a label with mask evidence must pass (docs/imaging.md, "Masks"). Internal to app:
// imaging.cpp defines it, App::PinToGuideline (workflow.cpp) applies it to every label.

#include "caliper/core/label_schema.h"
#include "caliper/core/types.h"
#include "caliper/storage/store.h"

namespace caliper::app {

// For evidence kind "mask" (other kinds pass): the item is an imaging item, the class is a
// segmentation class, and evidence.data {"version": n} names one of `owner`'s mask versions on
// the item (PUT /items/{item_id}/mask): the author's own, or the reader's whose label an
// adjudicator chose. kInvalidArgument naming the field otherwise.
Status CheckMaskEvidence(storage::Transaction& txn, const core::Annotation& a, const core::Item& item,
                         const core::LabelClass& cls, const std::string& owner);

}  // namespace caliper::app
