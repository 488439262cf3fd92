#pragma once

// The subgroup (bias) report of a snapshot: who the data represents and how labelling quality
// differs between subgroups (docs/export.md). Internal to the exports part.

#include <map>
#include <string>

#include "caliper/exports/snapshot.h"

namespace caliper::exports {

struct SubgroupReport {
  std::string json_text;
  std::string html;  // self-contained: inline CSS and SVG, no scripts, no external resources
};

// The attributes reported, in order: keys of the items' cohort_json, and "modality".
const std::vector<std::string>& SubgroupAttributes();

Result<SubgroupReport> BuildSubgroupReport(const SnapshotInput& input,
                                           const std::map<std::string, std::string>& split_of);

}  // namespace caliper::exports
