#pragma once

// QA rules: checks that run on every submit (over the submitted item) and as a scheduled sweep
// (over a whole project). Each finding names the item, the rule and a way to fix it. The
// caller gathers the project's labels into QaLabel rows; this file only reasons about them.
// No I/O; thread-compatible.
//
// Rules (ids as reported):
//   consistency.repeat_read       one reader gave one item different label sets on two reads
//   consistency.same_content      items with identical content have different final labels
//   imbalance.under_represented   a schema class is rare among labelled items
//   missing.required              a finished reading lacks a class the schema requires
//   duplicate.label               one reading holds the same class twice on the same evidence
//   duplicate.overlapping_span    one reading holds overlapping spans of the same class
//   disagreement.unresolved       readers disagree and nobody has adjudicated
//   guideline.outdated            a label was made under an older guideline version and its
//                                 class changed since
//   mask.empty_finding            a finding is claimed present but its mask is empty
//   mask.islands                  small disconnected pieces beside the main component
//   mask.holes                    background cavities fully enclosed by the mask
//   mask.outside_body             a share of the mask lies outside the body (CT: air)

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/quality/volume.h"

namespace caliper::quality {

enum class QaSeverity { kInfo, kWarning, kError };
std::string_view ToString(QaSeverity severity);  // "info", "warning", "error"

struct QaFinding {
  std::string rule;
  QaSeverity severity = QaSeverity::kWarning;
  std::string item;        // "" for project-level findings (imbalance)
  std::string label_class; // "" when the finding is not about one class
  std::string annotation;  // "" when not about one annotation
  std::string message;     // what is wrong, with the figures
  std::string fix;         // what to do about it
};

// One label of one reading. A reading is one reader's work on one item in one task.
struct QaLabel {
  std::string annotation;
  std::string item;
  std::string reader;
  std::string task;         // the reading; labels of one task form one label set
  std::string label_class;
  std::int64_t guideline_version = 0;  // the published version number it was made under
  std::int64_t span_start = -1;        // code points, for span labels; -1 otherwise
  std::int64_t span_end = -1;
  std::string evidence;     // a canonical form of the evidence, for duplicate detection
  bool final = false;       // adjudicated or consensus label of the item
};

struct QaItem {
  std::string id;
  std::string content_digest;  // equal digests = identical content
  bool adjudicated = false;
  bool reading_finished = false;  // every reading of it is submitted
};

struct QaSettings {
  std::vector<std::string> schema_classes;    // every class of the schema in force
  std::vector<std::string> required_classes;  // classes every finished reading must hold
  std::int64_t current_guideline_version = 0;
  // For each older published version v: the classes that differ between v and the current
  // version (core::DiffLabelSchemas). A version absent here counts as unchanged.
  std::map<std::int64_t, std::vector<std::string>> changed_since;
  double min_class_share = 0.05;  // a class on fewer than this share of labelled items ...
  std::int64_t min_class_items = 5;  // ... or on fewer items than this is under-represented
};

// The label rules above (everything but mask.*). Findings are ordered by rule, then item.
std::vector<QaFinding> RunLabelRules(std::span<const QaItem> items, std::span<const QaLabel> labels,
                                     const QaSettings& settings);

struct MaskQaSettings {
  std::int64_t min_island_voxels = 10;  // components smaller than this beside the largest
  // CT: more than this share of mask voxels below body_threshold_hu is flagged. Air outside
  // the body is about -1000 HU, aerated lung -700 to -900, so -950 keeps lung lesions quiet.
  double max_outside_body_share = 0.2;
  double body_threshold_hu = -950;
};

// The mask rules for one reader's mask of one class on one item. `claimed_present` is whether
// the reading says the finding is present. `ct_intensities` (HU, same grid, x fastest) enables
// mask.outside_body; pass nullopt for other modalities. Errors: kInvalidArgument for a
// malformed mask or an intensity buffer of the wrong size.
Result<std::vector<QaFinding>> RunMaskRules(const std::string& item, const std::string& label_class,
                                            const MaskView& mask, bool claimed_present,
                                            std::optional<std::span<const float>> ct_intensities,
                                            const MaskQaSettings& settings);

struct ComponentSummary {
  std::int64_t components = 0;         // 26-connected foreground components
  std::vector<std::int64_t> sizes;     // voxels per component, descending
  std::int64_t enclosed_cavities = 0;  // 6-connected background components not reaching the
                                       // edge of the volume
  std::int64_t cavity_voxels = 0;
};

// Connected components of the mask's foreground (26-connectivity) and its enclosed background
// cavities (6-connectivity, the dual of 26). Works on the mask's bounding box.
Result<ComponentSummary> SummariseComponents(const MaskView& mask);

}  // namespace caliper::quality
