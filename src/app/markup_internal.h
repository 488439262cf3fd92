#pragma once

// Checks shared by every kind of per-reader markup (markup.cpp: regions; waveforms.cpp:
// intervals). Internal to app.

#include <string>

#include "caliper/common/status.h"
#include "caliper/core/label_schema.h"
#include "caliper/core/types.h"
#include "caliper/storage/store.h"

namespace caliper::app::internal {

// The project's current published guideline with its parsed schema.
struct MarkupGuideline {
  core::GuidelineVersion version;
  core::LabelSchema schema;
};

// kConflict ("... `what` need one") when the project has no published guideline.
Result<MarkupGuideline> CurrentGuidelineFor(storage::Transaction& txn, const std::string& project_id,
                                            const std::string& what);

// kInvalidArgument naming `where` when `label_class` is not in the guideline or does not apply
// to items of `type` (a class with no data types applies to every type).
Status CheckMarkupClass(const MarkupGuideline& guideline, const std::string& label_class, core::DataType type,
                        const std::string& where);

}  // namespace caliper::app::internal
